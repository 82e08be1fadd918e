//! `cargo xtask run` shows the tour: it must keep running to the end.

#[path = "../examples/tour.rs"]
mod tour;

#[test]
fn the_tour_runs() {
    tour::main().expect("the tour runs to the end");
}

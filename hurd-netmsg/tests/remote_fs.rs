//! The book's cluster example as a test: a task on node 2 creates, writes and
//! reads a file on node 1's tmpfs through netmsg, and node 1 sees the write.

#[path = "../examples/cluster.rs"]
mod cluster_example;

#[test]
fn remote_file_system() {
    cluster_example::main().expect("the cluster example runs");
}

//! The `interface!` macro: an RPC interface defined once, as MIG does it.

/// Defines an RPC interface: a subsystem with a base id and its routines, and
/// generates from it a module with the client stubs, the server trait and the
/// demultiplexer.
///
/// ```
/// use hurd_ipc::interface;
///
/// interface! {
///     /// A calculator.
///     pub mod calc: subsystem 3000 {
///         /// Adds two numbers.
///         routine add(a: u32, b: u32) -> (sum: u32);
///         /// Splits a number into its halves.
///         routine split(n: u64) -> (high: u32, low: u32);
///         /// Records a note; no reply.
///         simpleroutine note(text: String);
///     }
/// }
///
/// assert_eq!(calc::id::add, 3000);
/// assert_eq!(calc::id::note, 3002);
/// ```
///
/// Each routine gets the id `subsystem + its index`, its reply the id + 100.
/// As in MIG, `skip name();` holds an id without a routine (one withdrawn from
/// the protocol): no stub, no trait method, and requests with its id get
/// `MIG_BAD_ID`.
/// Arguments and results are any [`MsgArg`](crate::mig::MsgArg) types (integers,
/// `bool`, `Vec<u8>`, `String`, `Vec<u32>`, [`PortItem`](crate::PortItem),
/// [`PortArray`](crate::PortArray),
/// [`OolItem`](crate::OolItem)). The generated module `calc` holds:
///
/// - `SUBSYSTEM` and `END` (one past the last id), and `id::add` etc.;
/// - `Client<'a, I: UserIpc>`: `Client::new(&task, port)` with one method per
///   routine, returning `Result<out, hurd_ipc::Error>` — the out value is `()`,
///   the single result, or a tuple of them;
/// - `Server`: a trait with one method per routine, taking `&self`, the
///   [`Request`](crate::mig::Request) and the arguments; routines return
///   `Result<out, hurd_ipc::Error>`, simpleroutines return nothing. Returning
///   `Err(Error::Mig(MigReturn::NoReply))` defers the reply: keep `req.reply` and
///   answer later with `reply::add(&task, req, result)`;
/// - `demux(&server, &task, msg) -> Dispatch`: ids outside the subsystem come back
///   as `Dispatch::NotMine`; requests whose items do not match the routine get a
///   `MIG_BAD_ARGUMENTS` reply, with the rights they carried destroyed;
/// - `serve(&server, &task, port)`: a receive loop around `demux` that answers
///   unknown ids with `MIG_BAD_ID`.
#[macro_export]
macro_rules! interface {
    (
        $(#[$meta:meta])*
        $vis:vis mod $module:ident : subsystem $base:literal {
            $(
                $(#[$rmeta:meta])*
                $kind:ident $name:ident ( $($arg:ident : $aty:ty),* $(,)? )
                    $(-> ( $($out:ident : $oty:ty),* $(,)? ))? ;
            )*
        }
    ) => {
        $(#[$meta])*
        #[allow(non_upper_case_globals, clippy::too_many_arguments, unused_imports)]
        $vis mod $module {
            use super::*;
            use $crate::mig::{Dispatch, MsgArg, Request, CallOptions};
            use $crate::{Error, Item, Message, MigReturn, PortName, UserIpc};
            use $crate::__private::Vec;

            /// The first message id of this interface.
            pub const SUBSYSTEM: i32 = $base;

            #[allow(non_camel_case_types, dead_code)]
            #[repr(i32)]
            enum __Routine { $($name,)* __End }

            /// One past the last message id of this interface.
            pub const END: i32 = SUBSYSTEM + __Routine::__End as i32;

            /// The message id of each routine.
            pub mod id {
                $(
                    #[doc = concat!("The message id of `", stringify!($name), "`.")]
                    pub const $name: i32 = super::SUBSYSTEM + super::__Routine::$name as i32;
                )*
            }

            /// Client stubs: one method per routine, sending to one port.
            pub struct Client<'a, I: UserIpc + ?Sized> {
                ipc: &'a I,
                port: PortName,
                opts: CallOptions,
            }

            impl<'a, I: UserIpc + ?Sized> Client<'a, I> {
                /// Stubs calling through the send right `port` of `ipc`'s space.
                pub fn new(ipc: &'a I, port: PortName) -> Self {
                    Client { ipc, port, opts: CallOptions::default() }
                }

                /// The same stubs sending through the destination with `disposition`
                /// instead of `CopySend`: `MoveSendOnce` when `port` names a
                /// send-once right (a `reply_to` port), which one call consumes.
                pub fn with_disposition(mut self, disposition: $crate::Disposition) -> Self {
                    self.opts.dest = disposition;
                    self
                }

                /// The same stubs with a timeout on each whole call.
                pub fn with_timeout(mut self, timeout: ::core::time::Duration) -> Self {
                    self.opts.timeout = Some(timeout);
                    self
                }

                /// The port the stubs call.
                pub fn port(&self) -> PortName {
                    self.port
                }

                $(
                    $crate::interface!(@client $kind $(#[$rmeta])* $name ( $($arg : $aty),* )
                        [ $($($out : $oty),*)? ]);
                )*
            }

            /// The server side: one method per routine.
            pub trait Server {
                $(
                    $crate::interface!(@server $kind $(#[$rmeta])* $name ( $($arg : $aty),* )
                        [ $($($out : $oty),*)? ]);
                )*
            }

            /// Decodes a request, calls the server, and builds the reply.
            pub fn demux<S: Server + ?Sized, I: UserIpc + ?Sized>(server: &S, ipc: &I, msg: Message) -> Dispatch {
                let req = Request::of(&msg);
                $(
                    $crate::interface!(@demux_arm $kind server ipc req msg $name ( $($arg : $aty),* )
                        [ $($($out : $oty),*)? ]);
                )*
                Dispatch::NotMine(msg)
            }

            /// Serves `port` (a receive right or port set) until it dies: every
            /// request goes through [`demux`]; unknown ids get `MIG_BAD_ID`.
            pub fn serve<S: Server + ?Sized, I: UserIpc + ?Sized>(server: &S, ipc: &I, port: PortName) -> $crate::MsgReturn {
                $crate::mig::serve(ipc, port, |msg| demux(server, ipc, msg))
            }

            /// Late replies, for routines that deferred theirs.
            pub mod reply {
                use super::*;
                $(
                    $crate::interface!(@reply $kind $name [ $($($out : $oty),*)? ]);
                )*
            }
        }
    };

    // ---- demux arms ----
    (@demux_arm skip $server:ident $ipc:ident $req:ident $msg:ident $name:ident ( ) [ ]) => {};
    (@demux_arm $kind:ident $server:ident $ipc:ident $req:ident $msg:ident $name:ident ( $($arg:ident : $aty:ty),* ) [ $($out:ident : $oty:ty),* ]) => {
        if $req.id == id::$name {
            if !$crate::mig::items_match(&$msg.body, &[$(<$aty as MsgArg>::matches),*]) {
                return $crate::mig::reject($ipc, $msg, MigReturn::BadArguments);
            }
            #[allow(unused_variables, unused_mut)]
            let mut items = $msg.body.into_iter();
            $( let $arg = <$aty as MsgArg>::decode(items.next().unwrap_or(Item::U32(0))); )*
            return $crate::interface!(@dispatch $kind $server $ipc $req $name ( $($arg),* )
                [ $($out : $oty),* ]);
        }
    };

    // ---- skipped ids: a number, nothing else ----
    (@client skip $(#[$rmeta:meta])* $name:ident ( ) [ ]) => {};
    (@server skip $(#[$rmeta:meta])* $name:ident ( ) [ ]) => {};
    (@reply skip $name:ident [ ]) => {};

    // ---- client stubs ----
    (@client routine $(#[$rmeta:meta])* $name:ident ( $($arg:ident : $aty:ty),* ) [ $($out:ident : $oty:ty),* ]) => {
        $(#[$rmeta])*
        pub fn $name(&self, $($arg: $aty),*) -> ::core::result::Result<$crate::interface!(@ret [ $($out : $oty),* ]), Error> {
            #[allow(unused_mut)]
            let mut args: Vec<Item> = Vec::new();
            $( <$aty as MsgArg>::encode($arg, &mut args); )*
            #[allow(unused_variables, unused_mut)]
            let mut outs = $crate::mig::call(self.ipc, self.port, id::$name, args, &self.opts,
                &[$(<$oty as MsgArg>::matches),*])?;
            $( let $out = <$oty as MsgArg>::decode(outs.next().unwrap_or(Item::U32(0))); )*
            Ok($crate::interface!(@pack [ $($out),* ]))
        }
    };
    (@client simpleroutine $(#[$rmeta:meta])* $name:ident ( $($arg:ident : $aty:ty),* ) [ ]) => {
        $(#[$rmeta])*
        pub fn $name(&self, $($arg: $aty),*) -> ::core::result::Result<(), Error> {
            #[allow(unused_mut)]
            let mut args: Vec<Item> = Vec::new();
            $( <$aty as MsgArg>::encode($arg, &mut args); )*
            $crate::mig::simple_call(self.ipc, self.port, id::$name, args, &self.opts)
        }
    };

    // ---- server trait methods ----
    (@server routine $(#[$rmeta:meta])* $name:ident ( $($arg:ident : $aty:ty),* ) [ $($out:ident : $oty:ty),* ]) => {
        $(#[$rmeta])*
        fn $name(&self, req: &Request, $($arg: $aty),*) -> ::core::result::Result<$crate::interface!(@ret [ $($out : $oty),* ]), Error>;
    };
    (@server simpleroutine $(#[$rmeta:meta])* $name:ident ( $($arg:ident : $aty:ty),* ) [ ]) => {
        $(#[$rmeta])*
        fn $name(&self, req: &Request, $($arg: $aty),*);
    };

    // ---- demux arms ----
    (@dispatch routine $server:ident $ipc:ident $req:ident $name:ident ( $($arg:ident),* ) [ $($out:ident : $oty:ty),* ]) => {
        match $server.$name(&$req, $($arg),*) {
            Err(Error::Mig(MigReturn::NoReply)) => Dispatch::NoReply,
            result => {
                if !$req.reply.is_valid() {
                    // No one to answer: whatever the result holds is dropped.
                    if let Ok(value) = result {
                        let $crate::interface!(@pat [ $($out),* ]) = value;
                        #[allow(unused_mut)]
                        let mut outs: Vec<Item> = Vec::new();
                        $( <$oty as MsgArg>::encode($out, &mut outs); )*
                        $ipc.destroy_message(Message { body: outs, ..Message::default() });
                    }
                    Dispatch::NoReply
                } else {
                    let items = result.map(|value| {
                        let $crate::interface!(@pat [ $($out),* ]) = value;
                        #[allow(unused_mut)]
                        let mut outs: Vec<Item> = Vec::new();
                        $( <$oty as MsgArg>::encode($out, &mut outs); )*
                        outs
                    });
                    Dispatch::Reply($crate::mig::reply_message(&$req, items))
                }
            }
        }
    };
    (@dispatch simpleroutine $server:ident $ipc:ident $req:ident $name:ident ( $($arg:ident),* ) [ ]) => {{
        $server.$name(&$req, $($arg),*);
        if $req.reply.is_valid() {
            // A simpleroutine sent with a reply right: release it unused.
            let _ = $ipc.port_deallocate($req.reply);
        }
        Dispatch::NoReply
    }};

    // ---- late replies ----
    (@reply routine $name:ident [ $($out:ident : $oty:ty),* ]) => {
        #[doc = concat!("Sends the reply of `", stringify!($name), "` for a request answered later.")]
        pub fn $name<I: UserIpc + ?Sized>(
            ipc: &I,
            req: &Request,
            result: ::core::result::Result<$crate::interface!(@ret [ $($out : $oty),* ]), Error>,
        ) -> ::core::result::Result<(), $crate::SendError> {
            let items = result.map(|value| {
                let $crate::interface!(@pat [ $($out),* ]) = value;
                #[allow(unused_mut)]
                let mut outs: Vec<Item> = Vec::new();
                $( <$oty as MsgArg>::encode($out, &mut outs); )*
                outs
            });
            $crate::mig::send_reply(ipc, $crate::mig::reply_message(req, items))
        }
    };
    (@reply simpleroutine $name:ident [ ]) => {};

    // ---- helpers ----
    (@ret [ ]) => { () };
    (@ret [ $out:ident : $oty:ty ]) => { $oty };
    (@ret [ $($out:ident : $oty:ty),+ ]) => { ( $($oty),+ ) };
    (@pack [ ]) => { () };
    (@pack [ $out:ident ]) => { $out };
    (@pack [ $($out:ident),+ ]) => { ( $($out),+ ) };
    (@pat [ ]) => { () };
    (@pat [ $out:ident ]) => { $out };
    (@pat [ $($out:ident),+ ]) => { ( $($out),+ ) };
}

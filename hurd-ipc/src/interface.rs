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
/// `MIG_BAD_ID`. `prefix "calc_"` after the base id names the routines as the
/// Hurd's `.defs` file does (`calc_add`) where the module drops the prefix;
/// only [`DESCRIPTION`](crate::msgids) uses it.
/// Arguments and results are any [`MsgArg`](crate::mig::MsgArg) types (integers,
/// `bool`, `Vec<u8>`, `String`, `Vec<u16>`, `Vec<u32>`, [`PortItem`](crate::PortItem),
/// [`PortArray`](crate::PortArray),
/// [`OolItem`](crate::OolItem)). The generated module `calc` holds:
///
/// - `SUBSYSTEM` and `END` (one past the last id), and `id::add` etc.;
/// - `DESCRIPTION`: the interface as data (a [`msgids::Subsystem`](crate::msgids::Subsystem):
///   routine names, ids, kinds, arguments), for tools such as `rpctrace`;
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
///   unknown ids with `MIG_BAD_ID`;
/// - `Call` and `Reply`: the interface's messages as data, for code that makes
///   and takes messages itself rather than through a [`UserIpc`](crate::UserIpc)
///   (a kernel serving its own interfaces, a protocol core that queues messages).
///   `Call` has one variant per routine and simpleroutine, named as the routine,
///   with its arguments as fields; `Reply` one per routine, holding its result:
///
///   | | |
///   |---|---|
///   | `Call::decode(msg) -> Result<(Call, Request), DecodeError>` | a request; bad id or items hand the whole message back |
///   | `call.encode(dest, disposition) -> Message` | a request to `dest`; add a reply port with [`Message::with_reply`](crate::Message::with_reply) |
///   | `call.id()` | its message id |
///   | `Reply::decode(msg) -> Result<Reply, DecodeError>` | a reply, by its id; an error reply decodes to `Err(code)` |
///   | `reply.encode(&request) -> Message` | the reply to `request`, sent through its reply right (move-send-once) |
///   | `reply.id()` | its message id (the request's + 100) |
///
///   Decoding releases nothing and keeps nothing: on success the variant's
///   fields hold every item the message carried, rights included (what to do
///   with them is the caller's business); on failure
///   [`DecodeError`](crate::mig::DecodeError) holds the message exactly as it
///   came. Argument types must be `Debug`, `Clone` and `PartialEq`, which the
///   enums derive.
///
/// ```
/// # use hurd_ipc::{interface, Disposition, Error, Item, PortName};
/// # use hurd_ipc::mig::Request;
/// # interface! {
/// #     /// A calculator.
/// #     pub mod calc: subsystem 3000 {
/// #         /// Adds two numbers.
/// #         routine add(a: u32, b: u32) -> (sum: u32);
/// #         routine split(n: u64) -> (high: u32, low: u32);
/// #         simpleroutine note(text: String);
/// #     }
/// # }
/// let msg = calc::Call::add { a: 40, b: 2 }.encode(PortName(5), Disposition::CopySend);
/// assert_eq!(msg.header.id, calc::id::add);
/// let (call, request) = calc::Call::decode(msg).unwrap();
/// assert_eq!(call, calc::Call::add { a: 40, b: 2 });
///
/// let reply = calc::Reply::add(Ok(42)).encode(&request);
/// assert_eq!(calc::Reply::decode(reply).unwrap(), calc::Reply::add(Ok(42)));
///
/// // A message of another interface comes back as it was.
/// let stranger = hurd_ipc::Message::new(7, PortName(5), Disposition::CopySend)
///     .with_item(Item::U32(1));
/// let err = calc::Call::decode(stranger.clone()).unwrap_err();
/// assert_eq!(err.code, hurd_ipc::MigReturn::BadId);
/// assert_eq!(err.message, stranger);
/// ```
#[macro_export]
macro_rules! interface {
    (
        $(#[$meta:meta])*
        $vis:vis mod $module:ident : subsystem $base:literal $(prefix $prefix:literal)? {
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

            /// The interface as data: its name, ids, routines and their
            /// arguments, for tools that name messages (see
            /// [`hurd_ipc::msgids`]($crate::msgids)).
            $crate::interface!(@describe $module [ $($prefix)? ]
                $( $kind $name ( $($arg : $aty),* ) [ $($($out : $oty),*)? ] ; )*
            );

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

            $crate::interface!(@filter [] []
                $( $(#[$rmeta])* $kind $name ( $($arg : $aty),* ) [ $($($out : $oty),*)? ] ; )*
            );

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

    // ---- the routines without skipped ids, and those with replies ----
    (@filter [ $($calls:tt)* ] [ $($replies:tt)* ]) => {
        $crate::interface!(@data [ $($calls)* ] [ $($replies)* ]);
    };
    (@filter [ $($calls:tt)* ] [ $($replies:tt)* ]
        $(#[$rmeta:meta])* skip $name:ident ( ) [ ] ; $($rest:tt)*) => {
        $crate::interface!(@filter [ $($calls)* ] [ $($replies)* ] $($rest)*);
    };
    (@filter [ $($calls:tt)* ] [ $($replies:tt)* ]
        $(#[$rmeta:meta])* routine $name:ident ( $($arg:ident : $aty:ty),* )
        [ $($out:ident : $oty:ty),* ] ; $($rest:tt)*) => {
        $crate::interface!(@filter
            [ $($calls)* { $(#[$rmeta])* routine $name ( $($arg : $aty),* ) [ $($out : $oty),* ] } ]
            [ $($replies)* { $(#[$rmeta])* $name [ $($out : $oty),* ] } ]
            $($rest)*);
    };
    (@filter [ $($calls:tt)* ] [ $($replies:tt)* ]
        $(#[$rmeta:meta])* simpleroutine $name:ident ( $($arg:ident : $aty:ty),* )
        [ ] ; $($rest:tt)*) => {
        $crate::interface!(@filter
            [ $($calls)* { $(#[$rmeta])* simpleroutine $name ( $($arg : $aty),* ) [ ] } ]
            [ $($replies)* ]
            $($rest)*);
    };

    // ---- the messages as data, and the demultiplexer built on them ----
    (@data
        [ $({ $(#[$cmeta:meta])* $kind:ident $name:ident ( $($arg:ident : $aty:ty),* )
              [ $($out:ident : $oty:ty),* ] })* ]
        [ $({ $(#[$rrmeta:meta])* $rname:ident [ $($rout:ident : $roty:ty),* ] })* ]
    ) => {
        /// A request of this interface as data: one variant per routine, named
        /// as the routine, with its arguments.
        #[allow(non_camel_case_types)]
        #[derive(Debug, Clone, PartialEq)]
        pub enum Call {
            $(
                $(#[$cmeta])*
                $name { $( #[allow(missing_docs)] $arg: $aty ),* },
            )*
        }

        impl Call {
            /// Decodes a request: its routine and arguments, and where it came
            /// from and should be answered.
            ///
            /// # Errors
            ///
            /// The message back, untouched, with `MIG_BAD_ID` when its id is no
            /// routine of this interface, `MIG_BAD_ARGUMENTS` when its items do
            /// not match the routine's arguments.
            pub fn decode(msg: Message) -> ::core::result::Result<(Call, Request), $crate::mig::DecodeError> {
                let req = Request::of(&msg);
                $(
                    if req.id == id::$name {
                        if !$crate::mig::items_match(&msg.body, &[$(<$aty as MsgArg>::matches),*]) {
                            return Err($crate::mig::DecodeError { code: MigReturn::BadArguments, message: msg });
                        }
                        #[allow(unused_variables, unused_mut)]
                        let mut items = msg.body.into_iter();
                        $( let $arg = <$aty as MsgArg>::decode(items.next().unwrap_or(Item::U32(0))); )*
                        return Ok((Call::$name { $($arg),* }, req));
                    }
                )*
                Err($crate::mig::DecodeError { code: MigReturn::BadId, message: msg })
            }

            /// The request as a message to `dest`, used with `disposition`, with
            /// no reply port.
            pub fn encode(self, dest: PortName, disposition: $crate::Disposition) -> Message {
                match self {
                    $(
                        Call::$name { $($arg),* } => {
                            #[allow(unused_mut)]
                            let mut body: Vec<Item> = Vec::new();
                            $( <$aty as MsgArg>::encode($arg, &mut body); )*
                            Message { body, ..Message::new(id::$name, dest, disposition) }
                        }
                    )*
                }
            }

            /// The request's message id.
            pub fn id(&self) -> i32 {
                match *self {
                    $( Call::$name { .. } => id::$name, )*
                }
            }
        }

        /// A reply of this interface as data: one variant per routine (not
        /// simpleroutines), named as the routine, with its result.
        #[allow(non_camel_case_types)]
        #[derive(Debug, Clone, PartialEq)]
        pub enum Reply {
            $(
                $(#[$rrmeta])*
                $rname(::core::result::Result<$crate::interface!(@ret [ $($rout : $roty),* ]), Error>),
            )*
        }

        impl Reply {
            /// Decodes a reply of this interface, by its id: a zero return code
            /// and the routine's results, or another return code alone.
            ///
            /// # Errors
            ///
            /// The message back, untouched, with `MIG_REPLY_MISMATCH` when its
            /// id is no reply of this interface, `MIG_TYPE_ERROR` when its items
            /// do not match.
            pub fn decode(msg: Message) -> ::core::result::Result<Reply, $crate::mig::DecodeError> {
                let id = msg.header.id.wrapping_sub($crate::mig::REPLY_ID_OFFSET);
                $(
                    if id == id::$rname {
                        let code = match $crate::mig::reply_code(&msg.body, &[$(<$roty as MsgArg>::matches),*]) {
                            Some(code) => code,
                            None => return Err($crate::mig::DecodeError { code: MigReturn::TypeError, message: msg }),
                        };
                        if let Some(err) = Error::from_code(code) {
                            return Ok(Reply::$rname(Err(err)));
                        }
                        #[allow(unused_variables, unused_mut)]
                        let mut items = msg.body.into_iter().skip(1);
                        $( let $rout = <$roty as MsgArg>::decode(items.next().unwrap_or(Item::U32(0))); )*
                        return Ok(Reply::$rname(Ok($crate::interface!(@pack [ $($rout),* ]))));
                    }
                )*
                Err($crate::mig::DecodeError { code: MigReturn::ReplyMismatch, message: msg })
            }

            /// The reply to `req`, to its reply right (moved as a send-once
            /// right): the return code, then on success the results. The id is
            /// this variant's reply id whatever `req.id` says. When the request
            /// had no reply right the message's destination is NULL.
            pub fn encode(self, req: &Request) -> Message {
                match self {
                    $(
                        Reply::$rname(result) => {
                            let req = Request { id: id::$rname, ..*req };
                            let items = result.map(|value| {
                                let $crate::interface!(@pat [ $($rout),* ]) = value;
                                #[allow(unused_mut)]
                                let mut outs: Vec<Item> = Vec::new();
                                $( <$roty as MsgArg>::encode($rout, &mut outs); )*
                                outs
                            });
                            $crate::mig::reply_message(&req, items)
                        }
                    )*
                }
            }

            /// The reply's message id.
            pub fn id(&self) -> i32 {
                match *self {
                    $( Reply::$rname(_) => id::$rname.wrapping_add($crate::mig::REPLY_ID_OFFSET), )*
                }
            }
        }

        /// Decodes a request, calls the server, and builds the reply.
        pub fn demux<S: Server + ?Sized, I: UserIpc + ?Sized>(server: &S, ipc: &I, msg: Message) -> Dispatch {
            let (call, req) = match Call::decode(msg) {
                Ok(decoded) => decoded,
                Err(e) if e.code == MigReturn::BadId => return Dispatch::NotMine(e.message),
                Err(e) => return $crate::mig::reject(ipc, e.message, e.code),
            };
            match call {
                $(
                    Call::$name { $($arg),* } => $crate::interface!(@dispatch $kind server ipc req $name ( $($arg),* )
                        [ $($out : $oty),* ]),
                )*
            }
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
                let reply = Reply::$name(result).encode(&$req);
                if $req.reply.is_valid() {
                    Dispatch::Reply(reply)
                } else {
                    // No one to answer: whatever the result holds is destroyed.
                    $ipc.destroy_message(reply);
                    Dispatch::NoReply
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
        ///
        /// # Errors
        ///
        /// The send's failure (no reply right, the client gone); the rights
        /// the reply was to move are destroyed.
        pub fn $name<I: UserIpc + ?Sized>(
            ipc: &I,
            req: &Request,
            result: ::core::result::Result<$crate::interface!(@ret [ $($out : $oty),* ]), Error>,
        ) -> ::core::result::Result<(), $crate::SendError> {
            $crate::mig::send_reply(ipc, Reply::$name(result).encode(req))
        }
    };
    (@reply simpleroutine $name:ident [ ]) => {};

    // ---- the interface as data ----
    (@describe $module:ident $prefix:tt
        $( $kind:ident $name:ident ( $($arg:ident : $aty:ty),* ) [ $($out:ident : $oty:ty),* ] ; )*
    ) => {
        /// The interface as data: its name, ids, routines and their
        /// arguments, for tools that name messages (see `hurd_ipc::msgids`).
        pub static DESCRIPTION: $crate::msgids::Subsystem = $crate::msgids::Subsystem {
            name: stringify!($module),
            base: SUBSYSTEM,
            routines: &[
                $(
                    $crate::msgids::Routine {
                        name: $crate::interface!(@name $prefix $name),
                        id: id::$name,
                        kind: $crate::interface!(@kind $kind),
                        args: &[ $( $crate::interface!(@arg $arg $aty) ),* ],
                        results: &[ $( $crate::interface!(@arg $out $oty) ),* ],
                    },
                )*
            ],
        };
    };

    // ---- helpers ----
    (@name [ ] $name:ident) => { stringify!($name) };
    (@name [ $prefix:literal ] $name:ident) => { concat!($prefix, stringify!($name)) };
    (@kind routine) => { $crate::msgids::RoutineKind::Routine };
    (@kind simpleroutine) => { $crate::msgids::RoutineKind::SimpleRoutine };
    (@kind skip) => { $crate::msgids::RoutineKind::Skip };
    (@arg $name:ident $ty:ty) => {
        $crate::msgids::Arg {
            name: stringify!($name),
            ty: stringify!($ty),
            kind: <$ty as $crate::mig::MsgArg>::KIND,
        }
    };
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

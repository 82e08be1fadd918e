//! The binary wire form of a [`Message`](crate::Message) (written by a later change).

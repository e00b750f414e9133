//! The Redis serialization protocol: requests as clients send them, replies
//! as the server writes them. A library with no server in it (the
//! `percore-resp-wire` crate; only the framework's `Decoder` trait, which
//! [`RespDecoder`] implements): resp, the topics' deliveries and the load
//! generator all write and read RESP with it.
//!
//! - `request`: [`RespDecoder`] cuts a connection's input into commands,
//!   [`parse_command`] takes one apart, [`encode_command`] writes one.
//! - `multibulk`: the framing rules both share, redis 7.0's to the byte.
//! - `inline`: inline commands split into words as redis splits them.
//! - `args`: where a parsed command's arguments are kept, and [`Command`] to
//!   read them.
//! - `error`: [`ProtocolError`], worded as redis words it.
//! - `reply`: replies (RESP2 and RESP3) as a client reads them.
//! - `write`: replies as the server writes them.
//!
//! ```
//! use percore::codec::Decoder;
//! use percore_resp_wire::{parse_command, Args, RespDecoder};
//!
//! let input = b"*2\r\n$3\r\nGET\r\n$1\r\nk\r\nPING\r\n";
//! let (mut decoder, mut args) = (RespDecoder::default(), Args::default());
//! let span = decoder.decode(input, 1 << 20).unwrap().unwrap();
//! let frame = &input[span.start..span.end];
//! parse_command(frame, &mut args).unwrap();
//! let command = args.view(frame);
//! assert!(command.name_is(b"get"));
//! assert_eq!(command.arg(1), Some(&b"k"[..]));
//! ```

mod args;
mod error;
mod inline;
mod multibulk;
mod peek;
mod reply;
mod request;
pub mod write;

pub use args::{Args, Command, MAX_NAME};
pub use error::{ProtocolError, BULK_TOO_LONG_REPLY};
pub use inline::push_inline_word;
pub use multibulk::{command_limit, string2ll, COMMAND_LIMIT_FLOOR, MAX_LINE};
pub use peek::{second_words, SecondWords};
pub use reply::{parse_reply, reply_len, ReplyError, Value, MAX_DEPTH};
pub use request::{encode_command, parse_command, RespDecoder};
pub use write::Proto;

#[cfg(test)]
mod measure;
#[cfg(test)]
mod proptests;
#[cfg(test)]
mod reply_tests;
#[cfg(test)]
mod request_tests;
#[cfg(test)]
mod unauth_tests;

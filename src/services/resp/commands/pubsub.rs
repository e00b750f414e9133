//! Pub/sub (SPEC 6.2, 6.3): not served yet.

use super::super::protocol::write;
use super::super::protocol::Command;

/// The reply to a pub/sub command while pub/sub is not served.
pub fn unsupported(args: &Command<'_>, out: &mut Vec<u8>) {
    let name = String::from_utf8_lossy(args.at(0)).to_lowercase();
    write::error(out, &format!("ERR '{name}' is not served yet"));
}

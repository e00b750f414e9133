//! The services, one file each, every one a small layer over the shared
//! connection loop. Each reads like the Python asyncio example it came from.

pub mod chat;
pub mod echo;
pub mod kv;
pub mod mq;
pub mod yell;

pub use chat::Chat;
pub use echo::Echo;
pub use kv::Kv;
pub use mq::Mq;
pub use yell::Yell;

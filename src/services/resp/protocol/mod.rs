//! The Redis serialization protocol: requests as clients send them, replies
//! as the server writes them.

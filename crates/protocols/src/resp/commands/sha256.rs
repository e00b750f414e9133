//! SHA-256 for ACL passwords: Redis 7.0 keeps a user's passwords as the
//! lowercase hex of their SHA-256 (`ACLHashPassword`), and ACL LIST and
//! GETUSER show them so; `#<hash>` rules give one directly. The digest is
//! ring's, the crate rustls already builds on (Cargo.toml "TLS").

use std::fmt::Write;

/// The digest of `data` as 64 lowercase hex digits, as Redis shows it.
pub fn hex(data: &[u8]) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, data);
    digest
        .as_ref()
        .iter()
        .fold(String::with_capacity(64), |mut hex, b| {
            let _ = write!(hex, "{b:02x}");
            hex
        })
}

#[cfg(test)]
mod tests {
    use super::hex;

    #[test]
    fn standard_vectors() {
        assert_eq!(
            hex(b""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(
            hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(
            hex(b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"
        );
    }

    #[test]
    fn as_redis_hashes_passwords() {
        // `ACL SETUSER u >secret` on redis 7.0.15, then ACL LIST.
        assert_eq!(
            hex(b"secret"),
            "2bb80d537b1da3e38bd30361aa855686bde0eacd7162fef6a25fe97bf527a25b"
        );
    }
}

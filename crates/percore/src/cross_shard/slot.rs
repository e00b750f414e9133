//! Hash slots (docs/PROTOCOLS.md §6.4): which of the 16,384 slots a key belongs to, as
//! Redis Cluster computes it, so that a cluster client and percore agree on
//! every key's node: CRC16-XMODEM of the key, modulo 16,384, where a key
//! with a hash tag (the part inside its first non-empty `{...}`) is hashed
//! by its tag alone, so that related keys can share a slot.

/// The number of hash slots, as in Redis Cluster.
pub const SLOTS: u16 = 16_384;

/// CRC16-XMODEM (polynomial 0x1021, initial value 0, no reflection): eight
/// bytes at a time from eight tables built at compile time ("slicing by
/// 8": eight independent loads instead of a chain of eight), then a byte at
/// a time. Every command's key goes through it in cluster mode.
pub fn crc16(bytes: &[u8]) -> u16 {
    let mut chunks = bytes.chunks_exact(8);
    let mut crc = 0u16;
    for chunk in &mut chunks {
        let [hi, lo] = crc.to_be_bytes();
        let t = |table: usize, byte: u8| CRC16_TABLES[table][usize::from(byte)];
        crc = t(7, hi ^ chunk[0])
            ^ t(6, lo ^ chunk[1])
            ^ t(5, chunk[2])
            ^ t(4, chunk[3])
            ^ t(3, chunk[4])
            ^ t(2, chunk[5])
            ^ t(1, chunk[6])
            ^ t(0, chunk[7]);
    }
    chunks.remainder().iter().fold(crc, |crc, &byte| {
        let index = usize::from((crc >> 8) as u8 ^ byte);
        (crc << 8) ^ CRC16_TABLES[0][index]
    })
}

/// The slot of `key`: of its hash tag when it has one, as Redis's
/// `keyHashSlot` (the first `{`, then the first `}` after it; an empty
/// `{}` is no tag and the whole key is hashed).
pub fn key_slot(key: &[u8]) -> u16 {
    crc16(hash_part(key)) & (SLOTS - 1)
}

/// The bytes of `key` that are hashed: its tag, or all of it.
fn hash_part(key: &[u8]) -> &[u8] {
    let Some(open) = memchr::memchr(b'{', key) else {
        return key;
    };
    let after = &key[open + 1..];
    match memchr::memchr(b'}', after) {
        Some(close) if close > 0 => &after[..close],
        _ => key,
    }
}

/// `CRC16_TABLES[k][x]`: the CRC of byte `x` followed by `k` zero bytes.
/// CRC is linear, so a chunk's CRC is the XOR of its bytes' entries.
const CRC16_TABLES: [[u16; 256]; 8] = crc16_tables();

const fn crc16_tables() -> [[u16; 256]; 8] {
    let mut tables = [[0u16; 256]; 8];
    tables[0] = crc16_table();
    let mut k = 1;
    while k < 8 {
        let mut x = 0;
        while x < 256 {
            let previous = tables[k - 1][x];
            tables[k][x] = (previous << 8) ^ tables[0][(previous >> 8) as usize];
            x += 1;
        }
        k += 1;
    }
    tables
}

const fn crc16_table() -> [u16; 256] {
    let mut table = [0u16; 256];
    let mut i = 0;
    while i < 256 {
        let mut crc = (i as u16) << 8;
        let mut bit = 0;
        while bit < 8 {
            crc = if crc & 0x8000 != 0 {
                (crc << 1) ^ 0x1021
            } else {
                crc << 1
            };
            bit += 1;
        }
        table[i] = crc;
        i += 1;
    }
    table
}

/// Node `i` of `n`'s slots (docs/PROTOCOLS.md §6.4): `[i*16384/n, (i+1)*16384/n)`, as
/// first and last. Contiguous, in the listed order, covering every slot,
/// sizes differing by at most one; never empty while `n <= 16384`.
pub fn slot_range(i: usize, n: usize) -> (u16, u16) {
    let start = |i: usize| i * usize::from(SLOTS) / n;
    let (first, end) = (start(i), start(i + 1));
    (first as u16, (end - 1) as u16)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc16_is_xmodem() {
        // The check value of CRC-16/XMODEM, and Redis's own test vector.
        assert_eq!(crc16(b"123456789"), 0x31c3);
        assert_eq!(crc16(b""), 0);
    }

    /// The plain definition: a bit at a time.
    fn crc16_bitwise(bytes: &[u8]) -> u16 {
        let mut crc = 0u16;
        for &byte in bytes {
            crc ^= u16::from(byte) << 8;
            for _ in 0..8 {
                crc = if crc & 0x8000 != 0 {
                    (crc << 1) ^ 0x1021
                } else {
                    crc << 1
                };
            }
        }
        crc
    }

    proptest::proptest! {
        #[test]
        fn sliced_crc16_equals_the_definition(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..70)) {
            proptest::prop_assert_eq!(crc16(&bytes), crc16_bitwise(&bytes));
        }
    }

    #[test]
    fn slots_equal_redis_cluster_keyslot() {
        // Each taken from redis-server 7.0.15's CLUSTER KEYSLOT.
        for (key, slot) in [
            (&b"foo"[..], 12182),
            (b"a", 15495),
            (b"{a}b", 15495),
            (b"{}", 15257),
            (b"a{}{b}", 15033),
            (b"", 0),
            (b"{x}1", 16287),
            (b"{x}2", 16287),
        ] {
            assert_eq!(key_slot(key), slot, "{}", String::from_utf8_lossy(key));
        }
    }

    #[test]
    fn a_hash_tag_is_the_first_non_empty_braces() {
        assert_eq!(hash_part(b"user:{42}:name"), b"42");
        assert_eq!(hash_part(b"{42}{43}"), b"42");
        assert_eq!(hash_part(b"{}{43}"), b"{}{43}");
        assert_eq!(hash_part(b"{open"), b"{open");
        assert_eq!(hash_part(b"close}"), b"close}");
        assert_eq!(hash_part(b"a{b{c}d}"), b"b{c");
        assert_eq!(key_slot(b"user:{42}:name"), key_slot(b"user:{42}:mail"));
    }
}

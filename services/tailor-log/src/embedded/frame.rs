//! One record on disk: `[body length u32][crc32 of body u32][body]`, little-endian, where the body
//! is `[offset u64][appended_at_ms i64][key length u32][key][header count u16]` then per header
//! `[name length u16][name][value length u32][value]`, and the payload fills the rest.

use crate::{Message, Record};

pub const HEADER_LEN: usize = 8;
/// Larger messages are refused: nothing Tailor sends comes near it, and a corrupt length field
/// must not make recovery allocate gigabytes.
pub const MAX_BODY_LEN: usize = 16 << 20;

pub fn encode(out: &mut Vec<u8>, offset: u64, appended_at_ms: i64, message: &Message) {
    let start = out.len();
    out.extend_from_slice(&[0; HEADER_LEN]);
    out.extend_from_slice(&offset.to_le_bytes());
    out.extend_from_slice(&appended_at_ms.to_le_bytes());
    out.extend_from_slice(&(message.key.len() as u32).to_le_bytes());
    out.extend_from_slice(&message.key);
    out.extend_from_slice(&(message.headers.len() as u16).to_le_bytes());
    for (name, value) in &message.headers {
        out.extend_from_slice(&(name.len() as u16).to_le_bytes());
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(&(value.len() as u32).to_le_bytes());
        out.extend_from_slice(value);
    }
    out.extend_from_slice(&message.payload);
    let body = &out[start + HEADER_LEN..];
    let (len, crc) = (body.len() as u32, crc32fast::hash(body));
    out[start..start + 4].copy_from_slice(&len.to_le_bytes());
    out[start + 4..start + 8].copy_from_slice(&crc.to_le_bytes());
}

/// The encoded size of a message's body, to check it against [`MAX_BODY_LEN`] before appending.
pub fn body_len(message: &Message) -> usize {
    let headers: usize = message.headers.iter().map(|(n, v)| 2 + n.len() + 4 + v.len()).sum();
    8 + 8 + 4 + message.key.len() + 2 + headers + message.payload.len()
}

pub enum Decoded {
    /// A whole, valid record and the number of bytes it took.
    Record(Record, usize),
    /// The buffer ends inside a record: read more, or at the end of a file, a torn write.
    Incomplete,
    Corrupt(String),
}

/// Decodes the record at the start of `buf`; `partition` is filled in from where it was read.
pub fn decode(buf: &[u8], partition: u32) -> Decoded {
    if buf.len() < HEADER_LEN {
        return Decoded::Incomplete;
    }
    let len = u32::from_le_bytes(buf[0..4].try_into().expect("4 bytes")) as usize;
    if len > MAX_BODY_LEN {
        return Decoded::Corrupt(format!("length field {len} exceeds the {MAX_BODY_LEN}-byte limit"));
    }
    let Some(body) = buf.get(HEADER_LEN..HEADER_LEN + len) else { return Decoded::Incomplete };
    let crc = u32::from_le_bytes(buf[4..8].try_into().expect("4 bytes"));
    if crc32fast::hash(body) != crc {
        return Decoded::Corrupt("checksum mismatch".to_owned());
    }
    match parse_body(body, partition) {
        Some(record) => Decoded::Record(record, HEADER_LEN + len),
        None => Decoded::Corrupt("fields overrun the record".to_owned()),
    }
}

fn parse_body(body: &[u8], partition: u32) -> Option<Record> {
    let mut rest = body;
    let mut take = |n: usize| -> Option<&[u8]> {
        let (head, tail) = rest.split_at_checked(n)?;
        rest = tail;
        Some(head)
    };
    let offset = u64::from_le_bytes(take(8)?.try_into().ok()?);
    let appended_at_ms = i64::from_le_bytes(take(8)?.try_into().ok()?);
    let key_len = u32::from_le_bytes(take(4)?.try_into().ok()?) as usize;
    let key = take(key_len)?.to_vec();
    let header_count = u16::from_le_bytes(take(2)?.try_into().ok()?);
    let mut headers = Vec::with_capacity(header_count as usize);
    for _ in 0..header_count {
        let name_len = u16::from_le_bytes(take(2)?.try_into().ok()?) as usize;
        let name = String::from_utf8(take(name_len)?.to_vec()).ok()?;
        let value_len = u32::from_le_bytes(take(4)?.try_into().ok()?) as usize;
        headers.push((name, take(value_len)?.to_vec()));
    }
    let payload = rest.to_vec();
    Some(Record { partition, offset, appended_at_ms, message: Message { key, payload, headers } })
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn message() -> impl Strategy<Value = Message> {
        (
            prop::collection::vec(any::<u8>(), 0..40),
            prop::collection::vec(any::<u8>(), 0..200),
            prop::collection::vec(("[a-z-]{0,12}", prop::collection::vec(any::<u8>(), 0..20)), 0..3),
        )
            .prop_map(|(key, payload, headers)| Message { key, payload, headers })
    }

    proptest! {
        #[test]
        fn round_trips(message in message(), offset in any::<u64>(), at in any::<i64>()) {
            let mut buf = Vec::new();
            encode(&mut buf, offset, at, &message);
            prop_assert_eq!(buf.len(), HEADER_LEN + body_len(&message));
            match decode(&buf, 2) {
                Decoded::Record(record, used) => {
                    prop_assert_eq!(used, buf.len());
                    prop_assert_eq!(record, Record { partition: 2, offset, appended_at_ms: at, message });
                }
                _ => prop_assert!(false, "did not decode"),
            }
        }

        #[test]
        fn a_truncated_record_is_incomplete(message in message(), cut in 0usize..1000) {
            let mut buf = Vec::new();
            encode(&mut buf, 7, 0, &message);
            let cut = cut % buf.len();
            prop_assert!(matches!(decode(&buf[..cut], 0), Decoded::Incomplete));
        }

        #[test]
        fn a_flipped_bit_is_caught(message in message(), bit in any::<usize>()) {
            let mut buf = Vec::new();
            encode(&mut buf, 7, 0, &message);
            let bit = bit % ((buf.len() - 4) * 8) + 32;
            buf[bit / 8] ^= 1 << (bit % 8);
            // Bits after the length field: a flip there could only make the record look incomplete.
            prop_assert!(!matches!(decode(&buf, 0), Decoded::Record(..)));
        }
    }
}

//! The on-disk form of one entry: a fixed header, the description, the payload.
//!
//! ```text
//! 0..8    magic  b"DFXCLIP\0"
//! 8..12   format version, u32 LE
//! 12..16  description length in bytes, u32 LE
//! 16..24  payload length in bytes, u64 LE
//! 24..56  the entry's key (a file renamed by hand does not answer for another key)
//! 56..88  blake3 of the description and payload (every byte after the header)
//! 88..    description (UTF-8), then payload
//! ```

use std::io::{self, Read, Write};

pub(crate) const MAGIC: [u8; 8] = *b"DFXCLIP\0";
pub(crate) const FORMAT_VERSION: u32 = 1;
pub(crate) const HEADER_LEN: usize = 88;
/// Descriptions are for `ls`; a longer one is cut (at a char boundary) when written.
pub(crate) const MAX_DESCRIPTION_BYTES: usize = 4096;

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Header {
    pub description_len: u32,
    pub payload_len: u64,
    pub key: [u8; 32],
    pub checksum: [u8; 32],
}

/// Why a file is not a valid entry; logged, never shown as a hit.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub(crate) enum Invalid {
    #[error("shorter than the header ({0} bytes)")]
    TooShort(usize),
    #[error("bad magic (not a dreamfx cache entry)")]
    Magic,
    #[error("format version {0}, this build reads {FORMAT_VERSION}")]
    Version(u32),
    #[error("description of {0} bytes is longer than allowed")]
    DescriptionTooLong(u32),
    #[error("file is {actual} bytes, header says {expected} (truncated or appended to)")]
    Length { expected: u64, actual: u64 },
    #[error("stored for another key")]
    Key,
    #[error("payload checksum mismatch")]
    Checksum,
}

pub(crate) fn truncate_description(description: &str) -> &str {
    if description.len() <= MAX_DESCRIPTION_BYTES {
        return description;
    }
    let mut end = MAX_DESCRIPTION_BYTES;
    while !description.is_char_boundary(end) {
        end -= 1;
    }
    &description[..end]
}

/// Writes a whole entry. `description` must already be truncated.
pub(crate) fn write_entry(
    out: &mut impl Write,
    key: &[u8; 32],
    description: &str,
    payload: &[u8],
) -> io::Result<()> {
    let mut header = [0u8; HEADER_LEN];
    header[0..8].copy_from_slice(&MAGIC);
    header[8..12].copy_from_slice(&FORMAT_VERSION.to_le_bytes());
    header[12..16].copy_from_slice(&(description.len() as u32).to_le_bytes());
    header[16..24].copy_from_slice(&(payload.len() as u64).to_le_bytes());
    header[24..56].copy_from_slice(key);
    header[56..88].copy_from_slice(body_checksum(description.as_bytes(), payload).as_bytes());
    out.write_all(&header)?;
    out.write_all(description.as_bytes())?;
    out.write_all(payload)?;
    out.flush()
}

/// Covers the description too: a flipped bit anywhere in the file makes the entry a miss.
fn body_checksum(description: &[u8], payload: &[u8]) -> blake3::Hash {
    let mut hasher = blake3::Hasher::new();
    hasher.update(description);
    hasher.update(payload);
    hasher.finalize()
}

pub(crate) fn parse_header(bytes: &[u8]) -> Result<Header, Invalid> {
    if bytes.len() < HEADER_LEN {
        return Err(Invalid::TooShort(bytes.len()));
    }
    if bytes[0..8] != MAGIC {
        return Err(Invalid::Magic);
    }
    let version = u32::from_le_bytes(bytes[8..12].try_into().unwrap());
    if version != FORMAT_VERSION {
        return Err(Invalid::Version(version));
    }
    let description_len = u32::from_le_bytes(bytes[12..16].try_into().unwrap());
    if description_len as usize > MAX_DESCRIPTION_BYTES {
        return Err(Invalid::DescriptionTooLong(description_len));
    }
    Ok(Header {
        description_len,
        payload_len: u64::from_le_bytes(bytes[16..24].try_into().unwrap()),
        key: bytes[24..56].try_into().unwrap(),
        checksum: bytes[56..88].try_into().unwrap(),
    })
}

impl Header {
    pub fn total_len(&self) -> u64 {
        HEADER_LEN as u64 + u64::from(self.description_len) + self.payload_len
    }
}

/// Checks a whole entry file's bytes and returns the payload.
pub(crate) fn verify<'a>(bytes: &'a [u8], key: &[u8; 32]) -> Result<&'a [u8], Invalid> {
    let header = parse_header(bytes)?;
    if header.total_len() != bytes.len() as u64 {
        return Err(Invalid::Length {
            expected: header.total_len(),
            actual: bytes.len() as u64,
        });
    }
    if &header.key != key {
        return Err(Invalid::Key);
    }
    let (description, payload) = bytes[HEADER_LEN..].split_at(header.description_len as usize);
    if body_checksum(description, payload).as_bytes() != &header.checksum {
        return Err(Invalid::Checksum);
    }
    Ok(payload)
}

/// Reads only the header and description (for listing: no payload read, no checksum).
pub(crate) fn read_description(file: &mut impl Read) -> io::Result<Result<String, Invalid>> {
    let mut header = [0u8; HEADER_LEN];
    let mut filled = 0;
    while filled < HEADER_LEN {
        match file.read(&mut header[filled..])? {
            0 => return Ok(Err(Invalid::TooShort(filled))),
            n => filled += n,
        }
    }
    let header = match parse_header(&header) {
        Ok(h) => h,
        Err(e) => return Ok(Err(e)),
    };
    let mut description = vec![0u8; header.description_len as usize];
    if let Err(e) = file.read_exact(&mut description) {
        return match e.kind() {
            io::ErrorKind::UnexpectedEof => Ok(Err(Invalid::TooShort(HEADER_LEN))),
            _ => Err(e),
        };
    }
    Ok(Ok(String::from_utf8_lossy(&description).into_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(key: &[u8; 32], description: &str, payload: &[u8]) -> Vec<u8> {
        let mut bytes = Vec::new();
        write_entry(&mut bytes, key, description, payload).unwrap();
        bytes
    }

    #[test]
    fn written_entry_verifies_and_yields_the_payload() {
        let bytes = entry(&[7; 32], "desc", b"payload bytes");
        assert_eq!(bytes.len(), HEADER_LEN + 4 + 13);
        assert_eq!(verify(&bytes, &[7; 32]).unwrap(), b"payload bytes");
        assert_eq!(
            read_description(&mut &bytes[..]).unwrap().unwrap(),
            "desc".to_string()
        );
    }

    #[test]
    fn every_header_field_is_checked() {
        let good = entry(&[7; 32], "d", b"abc");
        let mut magic = good.clone();
        magic[0] ^= 1;
        assert_eq!(verify(&magic, &[7; 32]), Err(Invalid::Magic));
        let mut version = good.clone();
        version[8] = 9;
        assert_eq!(verify(&version, &[7; 32]), Err(Invalid::Version(9)));
        let mut long = good.clone();
        long.push(0);
        assert!(matches!(
            verify(&long, &[7; 32]),
            Err(Invalid::Length { .. })
        ));
        assert!(matches!(
            verify(&good[..good.len() - 1], &[7; 32]),
            Err(Invalid::Length { .. })
        ));
        assert_eq!(verify(&good[..10], &[7; 32]), Err(Invalid::TooShort(10)));
        assert_eq!(verify(&good, &[8; 32]), Err(Invalid::Key));
        let mut payload = good.clone();
        *payload.last_mut().unwrap() ^= 0x80;
        assert_eq!(verify(&payload, &[7; 32]), Err(Invalid::Checksum));
        let mut description = good.clone();
        description[HEADER_LEN] ^= 0x01;
        assert_eq!(verify(&description, &[7; 32]), Err(Invalid::Checksum));
    }

    #[test]
    fn long_descriptions_are_cut_at_a_char_boundary() {
        let long = "é".repeat(MAX_DESCRIPTION_BYTES); // 2 bytes each
        let cut = truncate_description(&long);
        assert!(cut.len() <= MAX_DESCRIPTION_BYTES);
        assert!(cut.len() > MAX_DESCRIPTION_BYTES - 2);
        assert_eq!(truncate_description("short"), "short");
    }
}

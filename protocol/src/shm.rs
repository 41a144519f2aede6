//! Frames in shared memory. On Linux a segment is a memfd: it has no name, it is handed over the
//! socket, and the kernel frees it when the last process holding it closes or unmaps it, so a
//! crash of either side leaks nothing.
//!
//! Every segment is sealed against shrinking and growing before it is handed over, and a
//! received one is mapped only when it carries those seals and is exactly the announced size:
//! a mapping whose file shrinks under it kills the reader with SIGBUS, and the reader is the
//! runtime every host shares.
//!
//! A frame in a segment is a [`FrameHeader`] followed (at `data_offset`) by RGBA f32 pixels,
//! rows top-down. The header is read by two separately built binaries, so its layout is part of
//! the handshake ([`HeaderLayout`]).
use std::io;
use std::mem::{align_of, offset_of, size_of};
use std::os::fd::{AsFd, AsRawFd, OwnedFd};

use memmap2::{MmapOptions, MmapRaw};
use nix::fcntl::{fcntl, FcntlArg, SealFlag};
use serde::{Deserialize, Serialize};

pub const FRAME_MAGIC: u32 = u32::from_le_bytes(*b"DFXF");
pub const FRAME_HEADER_VERSION: u32 = 1;
/// Pixels start this far into a frame: keeps them 64-byte aligned.
pub const FRAME_DATA_OFFSET: u64 = 128;
pub const SAMPLE_F32: u32 = 1;

#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameHeader {
    pub magic: u32,
    pub version: u32,
    pub width: u32,
    pub height: u32,
    pub channels: u32,
    pub sample_format: u32,
    /// Floats from one row to the next.
    pub row_stride: u64,
    pub data_offset: u64,
    pub content_hash: [u8; 32],
}

/// Size, alignment and field offsets of [`FrameHeader`] as compiled into this binary.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeaderLayout {
    pub size: u32,
    pub align: u32,
    pub offsets: Vec<u32>,
}

impl HeaderLayout {
    pub fn this_build() -> Self {
        HeaderLayout {
            size: size_of::<FrameHeader>() as u32,
            align: align_of::<FrameHeader>() as u32,
            offsets: vec![
                offset_of!(FrameHeader, magic) as u32,
                offset_of!(FrameHeader, version) as u32,
                offset_of!(FrameHeader, width) as u32,
                offset_of!(FrameHeader, height) as u32,
                offset_of!(FrameHeader, channels) as u32,
                offset_of!(FrameHeader, sample_format) as u32,
                offset_of!(FrameHeader, row_stride) as u32,
                offset_of!(FrameHeader, data_offset) as u32,
                offset_of!(FrameHeader, content_hash) as u32,
            ],
        }
    }
}

/// Bytes one RGBA f32 frame of this size takes in a segment, header included.
pub fn frame_bytes(width: u32, height: u32) -> u64 {
    FRAME_DATA_OFFSET + width as u64 * height as u64 * 16
}

#[derive(Debug, thiserror::Error)]
pub enum ShmError {
    #[error(
        "could not create shared memory of {bytes} bytes: {source} (is /dev/shm or memory full?)"
    )]
    Create { bytes: u64, source: io::Error },
    #[error("could not map shared memory: {0}")]
    Map(io::Error),
    #[error(
        "segment {segment} is not sealed against resizing (seals {seals:?}); only segments \
         made by dreamfx's Segment::create (a memfd sealed with F_SEAL_SHRINK | F_SEAL_GROW) \
         are accepted"
    )]
    Unsealed { segment: u64, seals: String },
    #[error(
        "segment {segment} is {actual} bytes but {announced} were announced; announce the \
         segment's exact size"
    )]
    WrongSize {
        segment: u64,
        actual: u64,
        announced: u64,
    },
    #[error("frame at offset {offset} does not fit in segment {segment} of {len} bytes")]
    OutOfBounds { segment: u64, offset: u64, len: u64 },
    #[error("no valid frame at offset {offset} of segment {segment}: {why}")]
    BadFrame {
        segment: u64,
        offset: u64,
        why: String,
    },
}

/// The seals a segment must carry before it is mapped: together they fix its size for good.
const REQUIRED_SEALS: SealFlag = SealFlag::F_SEAL_SHRINK.union(SealFlag::F_SEAL_GROW);

/// A mapped shared-memory segment.
pub struct Segment {
    id: u64,
    fd: OwnedFd,
    map: MmapRaw,
}

// SAFETY: the mapping is plain shared memory; writers publish a frame before handing its
// reference to anyone, and readers only read published frames.
unsafe impl Send for Segment {}
unsafe impl Sync for Segment {}

impl Segment {
    /// A new zero-filled segment backed by a memfd, sealed at `len` bytes so that nobody holding
    /// it can shrink it under another process's mapping.
    pub fn create(id: u64, len: u64) -> Result<Segment, ShmError> {
        use nix::sys::memfd::MFdFlags;
        let create = || -> io::Result<OwnedFd> {
            let fd = nix::sys::memfd::memfd_create(
                c"dreamfx-frames",
                MFdFlags::MFD_CLOEXEC | MFdFlags::MFD_ALLOW_SEALING,
            )?;
            nix::unistd::ftruncate(&fd, len as i64)?;
            fcntl(
                &fd,
                FcntlArg::F_ADD_SEALS(REQUIRED_SEALS | SealFlag::F_SEAL_SEAL),
            )?;
            Ok(fd)
        };
        let fd = create().map_err(|source| ShmError::Create { bytes: len, source })?;
        Self::from_fd(id, fd, len)
    }

    /// Maps a segment whose fd arrived over the socket. Refuses anything but a memfd sealed
    /// against shrinking and growing whose size is exactly `len`: once mapped, its size can no
    /// longer change under us.
    pub fn from_fd(id: u64, fd: OwnedFd, len: u64) -> Result<Segment, ShmError> {
        // A regular file, pipe or unsealable memfd has no seals to read (EINVAL) or lacks them.
        let seals = fcntl(&fd, FcntlArg::F_GET_SEALS)
            .map(SealFlag::from_bits_truncate)
            .map_err(|e| ShmError::Unsealed {
                segment: id,
                seals: format!("none: {e}"),
            })?;
        if !seals.contains(REQUIRED_SEALS) {
            return Err(ShmError::Unsealed {
                segment: id,
                seals: format!("{seals:?}"),
            });
        }
        let st = nix::sys::stat::fstat(fd.as_fd()).map_err(|e| ShmError::Map(e.into()))?;
        if st.st_size as u64 != len || len == 0 {
            return Err(ShmError::WrongSize {
                segment: id,
                actual: st.st_size as u64,
                announced: len,
            });
        }
        let map = MmapOptions::new()
            .len(len as usize)
            .map_raw(fd.as_raw_fd())
            .map_err(ShmError::Map)?;
        Ok(Segment { id, fd, map })
    }

    pub fn id(&self) -> u64 {
        self.id
    }
    pub fn len(&self) -> u64 {
        self.map.len() as u64
    }
    pub fn is_empty(&self) -> bool {
        self.map.len() == 0
    }
    pub fn fd(&self) -> &OwnedFd {
        &self.fd
    }

    /// Writes a frame at `offset`. The caller owns that range (no reader sees it yet).
    pub fn write_frame(
        &self,
        offset: u64,
        width: u32,
        height: u32,
        pixels: &[f32],
        content_hash: [u8; 32],
    ) -> Result<(), ShmError> {
        assert_eq!(pixels.len(), width as usize * height as usize * 4);
        let dst = self.frame_pixels_mut(offset, width, height)?;
        dst.copy_from_slice(pixels);
        self.write_header(offset, width, height, content_hash)
    }

    /// The pixel area of a frame about to be written at `offset` (to fill it in place).
    #[allow(clippy::mut_from_ref)]
    pub fn frame_pixels_mut(
        &self,
        offset: u64,
        width: u32,
        height: u32,
    ) -> Result<&mut [f32], ShmError> {
        self.check_range(offset, frame_bytes(width, height))?;
        let count = width as usize * height as usize * 4;
        // SAFETY: in bounds (checked), aligned (mmap is page aligned, offsets are multiples of
        // 64 + FRAME_DATA_OFFSET), and the caller owns this unpublished range.
        Ok(unsafe {
            std::slice::from_raw_parts_mut(
                self.map
                    .as_mut_ptr()
                    .add((offset + FRAME_DATA_OFFSET) as usize) as *mut f32,
                count,
            )
        })
    }

    pub fn write_header(
        &self,
        offset: u64,
        width: u32,
        height: u32,
        content_hash: [u8; 32],
    ) -> Result<(), ShmError> {
        self.check_range(offset, frame_bytes(width, height))?;
        let header = FrameHeader {
            magic: FRAME_MAGIC,
            version: FRAME_HEADER_VERSION,
            width,
            height,
            channels: 4,
            sample_format: SAMPLE_F32,
            row_stride: width as u64 * 4,
            data_offset: FRAME_DATA_OFFSET,
            content_hash,
        };
        // SAFETY: in bounds and 8-aligned (offsets are multiples of 64).
        unsafe {
            std::ptr::write(
                self.map.as_mut_ptr().add(offset as usize) as *mut FrameHeader,
                header,
            )
        };
        Ok(())
    }

    /// Reads a published frame, checking its header against the segment's size.
    pub fn read_frame(&self, offset: u64) -> Result<FrameView<'_>, ShmError> {
        self.check_range(offset, FRAME_DATA_OFFSET)?;
        if !offset.is_multiple_of(64) {
            return Err(self.bad(offset, "offset not 64-byte aligned"));
        }
        // SAFETY: in bounds and aligned (checked above).
        let header =
            unsafe { std::ptr::read(self.map.as_ptr().add(offset as usize) as *const FrameHeader) };
        if header.magic != FRAME_MAGIC || header.version != FRAME_HEADER_VERSION {
            return Err(self.bad(offset, "wrong magic or header version"));
        }
        if header.channels != 4
            || header.sample_format != SAMPLE_F32
            || header.row_stride != header.width as u64 * 4
            || header.data_offset != FRAME_DATA_OFFSET
        {
            return Err(self.bad(offset, "unsupported pixel layout"));
        }
        self.check_range(offset, frame_bytes(header.width, header.height))?;
        let count = header.width as usize * header.height as usize * 4;
        // SAFETY: in bounds (checked), aligned, published (read only).
        let pixels = unsafe {
            std::slice::from_raw_parts(
                self.map.as_ptr().add((offset + FRAME_DATA_OFFSET) as usize) as *const f32,
                count,
            )
        };
        Ok(FrameView {
            width: header.width,
            height: header.height,
            content_hash: header.content_hash,
            pixels,
        })
    }

    fn bad(&self, offset: u64, why: &str) -> ShmError {
        ShmError::BadFrame {
            segment: self.id,
            offset,
            why: why.into(),
        }
    }

    fn check_range(&self, offset: u64, bytes: u64) -> Result<(), ShmError> {
        match offset.checked_add(bytes) {
            Some(end) if end <= self.len() => Ok(()),
            _ => Err(ShmError::OutOfBounds {
                segment: self.id,
                offset,
                len: self.len(),
            }),
        }
    }
}

/// A frame in shared memory: RGBA f32, rows top-down, tightly packed.
#[derive(Clone, Copy)]
pub struct FrameView<'a> {
    pub width: u32,
    pub height: u32,
    pub content_hash: [u8; 32],
    pub pixels: &'a [f32],
}

/// Bytes hashed as one piece of a frame's content hash. Fixed, so the hash is the same on every
/// machine whatever its core count.
const HASH_CHUNK: usize = 4 << 20;

/// Hash of a frame's pixels: part of every job key that reads it. XXH3-128 over fixed 4 MiB
/// pieces (hashed on several cores when the frame is large), then over the pieces' digests: a
/// cached frame's round trip is this hash plus one copy out, so it must run at memory speed.
pub fn content_hash(width: u32, height: u32, pixels: &[f32]) -> [u8; 32] {
    // SAFETY: f32 has no padding; reading its bytes is fine.
    let bytes = unsafe {
        std::slice::from_raw_parts(pixels.as_ptr() as *const u8, std::mem::size_of_val(pixels))
    };
    let pieces: Vec<&[u8]> = bytes.chunks(HASH_CHUNK).collect();
    let mut digests = vec![0u128; pieces.len()];
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(pieces.len())
        .min(4);
    if threads <= 1 {
        for (d, p) in digests.iter_mut().zip(&pieces) {
            *d = xxhash_rust::xxh3::xxh3_128(p);
        }
    } else {
        let per = pieces.len().div_ceil(threads);
        std::thread::scope(|s| {
            for (ds, ps) in digests.chunks_mut(per).zip(pieces.chunks(per)) {
                s.spawn(move || {
                    for (d, p) in ds.iter_mut().zip(ps) {
                        *d = xxhash_rust::xxh3::xxh3_128(p);
                    }
                });
            }
        });
    }
    let mut joined = Vec::with_capacity(digests.len() * 16 + 8);
    for d in &digests {
        joined.extend_from_slice(&d.to_le_bytes());
    }
    joined.extend_from_slice(&(bytes.len() as u64).to_le_bytes());
    let h = xxhash_rust::xxh3::xxh3_128(&joined).to_le_bytes();
    let mut out = [0u8; 32];
    out[..16].copy_from_slice(&h);
    out[16..20].copy_from_slice(&width.to_le_bytes());
    out[20..24].copy_from_slice(&height.to_le_bytes());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frame_round_trips_through_a_second_mapping_of_the_same_fd() {
        let seg = Segment::create(7, frame_bytes(3, 2)).unwrap();
        let pixels: Vec<f32> = (0..24).map(|i| i as f32 * 0.5).collect();
        seg.write_frame(0, 3, 2, &pixels, [9; 32]).unwrap();
        let dup = seg.fd().try_clone().unwrap();
        let other = Segment::from_fd(7, dup, seg.len()).unwrap();
        let view = other.read_frame(0).unwrap();
        assert_eq!((view.width, view.height), (3, 2));
        assert_eq!(view.pixels, &pixels[..]);
        assert_eq!(view.content_hash, [9; 32]);
    }

    #[test]
    fn content_hash_sees_every_piece_and_the_size() {
        let big: Vec<f32> = (0..3_000_000).map(|i| i as f32).collect();
        let h = content_hash(1000, 750, &big);
        assert_eq!(h, content_hash(1000, 750, &big), "deterministic");
        let mut changed = big.clone();
        changed[2_999_999] += 1.0; // in the last piece
        assert_ne!(h, content_hash(1000, 750, &changed));
        assert_ne!(h, content_hash(750, 1000, &big));
    }

    #[test]
    fn a_frame_that_does_not_fit_is_refused() {
        let seg = Segment::create(1, 4096).unwrap();
        assert!(matches!(
            seg.write_frame(0, 100, 100, &vec![0.0; 40000], [0; 32]),
            Err(ShmError::OutOfBounds { .. })
        ));
        assert!(matches!(seg.read_frame(0), Err(ShmError::BadFrame { .. })));
        assert!(matches!(
            seg.read_frame(8192),
            Err(ShmError::OutOfBounds { .. })
        ));
    }

    #[test]
    fn an_announced_length_other_than_the_fds_size_is_refused() {
        let seg = Segment::create(1, 8192).unwrap();
        for announced in [1 << 20, 4096] {
            let dup = seg.fd().try_clone().unwrap();
            match Segment::from_fd(1, dup, announced) {
                Err(ShmError::WrongSize {
                    actual: 8192,
                    announced: a,
                    ..
                }) => assert_eq!(a, announced),
                other => panic!("{:?}", other.map(|s| s.len())),
            }
        }
    }

    #[test]
    fn a_created_segment_cannot_be_resized_or_unsealed() {
        let seg = Segment::create(1, 8192).unwrap();
        assert!(nix::unistd::ftruncate(seg.fd(), 0).is_err(), "shrink");
        assert!(nix::unistd::ftruncate(seg.fd(), 1 << 20).is_err(), "grow");
        assert!(
            fcntl(seg.fd(), FcntlArg::F_ADD_SEALS(SealFlag::F_SEAL_WRITE)).is_err(),
            "seals are final"
        );
        assert_eq!(nix::sys::stat::fstat(seg.fd()).unwrap().st_size, 8192);
    }

    fn memfd(len: i64, seals: Option<SealFlag>) -> OwnedFd {
        use nix::sys::memfd::MFdFlags;
        let flags = if seals.is_some() {
            MFdFlags::MFD_ALLOW_SEALING
        } else {
            MFdFlags::empty()
        };
        let fd = nix::sys::memfd::memfd_create(c"test", flags).unwrap();
        nix::unistd::ftruncate(&fd, len).unwrap();
        if let Some(seals) = seals {
            fcntl(&fd, FcntlArg::F_ADD_SEALS(seals)).unwrap();
        }
        fd
    }

    #[test]
    fn unsealed_or_half_sealed_memfds_and_plain_files_are_refused() {
        for seals in [
            None,
            Some(SealFlag::empty()),
            Some(SealFlag::F_SEAL_GROW | SealFlag::F_SEAL_SEAL),
            Some(SealFlag::F_SEAL_SHRINK),
        ] {
            let err = Segment::from_fd(3, memfd(4096, seals), 4096)
                .err()
                .unwrap_or_else(|| panic!("{seals:?} accepted"));
            assert!(matches!(err, ShmError::Unsealed { .. }), "{err}");
            assert!(err.to_string().contains("not sealed"), "{err}");
        }
        let file = tempfile_fd();
        assert!(matches!(
            Segment::from_fd(3, file, 4096),
            Err(ShmError::Unsealed { .. })
        ));
        // Shrink and grow sealed is enough; SEAL_SEAL is the creator's own business.
        Segment::from_fd(
            3,
            memfd(4096, Some(SealFlag::F_SEAL_SHRINK | SealFlag::F_SEAL_GROW)),
            4096,
        )
        .unwrap();
    }

    fn tempfile_fd() -> OwnedFd {
        let path = std::env::temp_dir().join(format!("dfx-shm-test-{}", std::process::id()));
        let f = std::fs::File::create(&path).unwrap();
        f.set_len(4096).unwrap();
        std::fs::remove_file(&path).unwrap();
        f.into()
    }
}

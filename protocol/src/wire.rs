//! Messages on the control socket and their framing.
//!
//! A frame is `[u32 LE payload length][u8 number of attached fds][postcard payload]`. File
//! descriptors (shared-memory segments) travel as SCM_RIGHTS ancillary data with the frame's
//! bytes; the receiver collects every fd that arrives and hands the frame as many as it announced.
use std::collections::VecDeque;
use std::io::{self, IoSlice, IoSliceMut};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::net::UnixStream;
use std::time::Duration;

use nix::sys::socket::{recvmsg, sendmsg, ControlMessage, ControlMessageOwned, MsgFlags};
use serde::{Deserialize, Serialize};

use crate::job::Job;
use crate::shm::HeaderLayout;

/// Largest payload either side accepts; control messages are small, pixels never travel here.
pub const MAX_MESSAGE_BYTES: usize = 4 << 20;
const MAX_FDS_PER_FRAME: usize = 4;
/// Fds that arrived and no message has claimed yet. A peer sends them with the frame that
/// announces them, so more than a few waiting means it sends fds nobody asked for, each one a
/// slot in this process's fd table.
const MAX_PENDING_FDS: usize = 2 * MAX_FDS_PER_FRAME;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub enum ClientMsg {
    Hello {
        protocol: u32,
        header_layout: HeaderLayout,
        client: String,
    },
    /// Asks for a job's frame. `job.inputs` names the input frames by content hash; `inputs`
    /// may be empty, and the runtime then answers from its cache or with `NeedInputs`, so a
    /// cached frame costs no upload. Otherwise `inputs` are in an upload segment (a segment new
    /// to this connection comes with its fd).
    Render {
        request: u64,
        job: Job,
        inputs: Vec<FrameRef>,
        new_segment: Option<SegmentInfo>,
    },
    /// Like `Render`, but the runtime only makes and caches the result ("Generate now"): it
    /// answers `Queued` (or `FrameReady` when cached, `NeedInputs`, `Failed`) and carries on
    /// when this client goes away.
    Prepare {
        request: u64,
        job: Job,
        inputs: Vec<FrameRef>,
        new_segment: Option<SegmentInfo>,
    },
    Cancel {
        request: u64,
    },
    /// Which words of each text `model` cannot read (empty model: the built-in one).
    CheckPrompt {
        request: u64,
        model: String,
        texts: Vec<String>,
    },
    /// The client unmapped a runtime segment; send its fd again if it is needed later.
    ForgetSegment {
        id: u64,
    },
    PurgeCache,
    Status,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub enum ServerMsg {
    Welcome {
        protocol: u32,
        runtime_pid: u32,
        device: String,
    },
    /// The handshake failed; the connection closes after this.
    Refused {
        reason: String,
    },
    Progress {
        request: u64,
        fraction: f32,
    },
    /// Not cached: send the request again with its input frames.
    NeedInputs {
        request: u64,
    },
    /// The result lives in a runtime-owned segment; its fd comes along the first time this
    /// connection sees it.
    FrameReady {
        request: u64,
        frame: FrameRef,
        new_segment: Option<SegmentInfo>,
        from_cache: bool,
    },
    Failed {
        request: u64,
        message: String,
    },
    /// A `Prepare` is queued: the runtime will make it whether or not anyone waits.
    Queued {
        request: u64,
    },
    /// For each text of a `CheckPrompt`, what the model cannot read ("" when it reads it all).
    PromptChecked {
        request: u64,
        notes: Vec<String>,
    },
    Status(RuntimeStatus),
    /// The peer sent something this side cannot accept; the connection closes after this.
    ProtocolError {
        message: String,
    },
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct RuntimeStatus {
    pub pid: u32,
    pub connections: u32,
    pub cached_frames: u32,
    pub cache_bytes: u64,
    pub jobs_run: u64,
    pub jobs_cancelled: u64,
    pub cache_hits: u64,
    /// Generated-clip segments this runtime made (not found in memory or on disk).
    pub segments_generated: u64,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Hash)]
pub struct FrameRef {
    pub segment: u64,
    pub offset: u64,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
pub struct SegmentInfo {
    pub id: u64,
    pub len: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum WireError {
    #[error("the other side closed the connection")]
    Closed,
    #[error("message of {0} bytes is larger than the {MAX_MESSAGE_BYTES}-byte limit")]
    Oversized(usize),
    #[error("malformed message: {0}")]
    Malformed(String),
    #[error("message announced {announced} file descriptors but {received} arrived")]
    MissingFds { announced: usize, received: usize },
    #[error(
        "{0} file descriptors arrived that no message announced; send each fd with the message \
         that names it"
    )]
    UnannouncedFds(usize),
    #[error(transparent)]
    Io(#[from] io::Error),
}

/// One end of the control socket with its receive buffer and the fds that arrived with it.
pub struct Channel {
    stream: UnixStream,
    buf: Vec<u8>,
    fds: VecDeque<OwnedFd>,
}

impl Channel {
    pub fn new(stream: UnixStream) -> Self {
        Channel {
            stream,
            buf: Vec::new(),
            fds: VecDeque::new(),
        }
    }

    pub fn stream(&self) -> &UnixStream {
        &self.stream
    }

    pub fn send<M: Serialize>(&self, msg: &M, fds: &[RawFd]) -> Result<(), WireError> {
        let payload = postcard::to_stdvec(msg).map_err(|e| WireError::Malformed(e.to_string()))?;
        if payload.len() > MAX_MESSAGE_BYTES {
            return Err(WireError::Oversized(payload.len()));
        }
        assert!(fds.len() <= MAX_FDS_PER_FRAME);
        let mut frame = Vec::with_capacity(5 + payload.len());
        frame.extend_from_slice(&(payload.len() as u32).to_le_bytes());
        frame.push(fds.len() as u8);
        frame.extend_from_slice(&payload);
        send_frame(&self.stream, &frame, fds)
    }

    /// Waits up to `timeout` (None: forever) for one whole message. `Ok(None)` on time-out; a
    /// partly received message is kept for the next call.
    pub fn recv<M: for<'de> Deserialize<'de>>(
        &mut self,
        timeout: Option<Duration>,
    ) -> Result<Option<(M, Vec<OwnedFd>)>, WireError> {
        self.stream.set_read_timeout(timeout)?;
        loop {
            if let Some(frame) = self.take_frame()? {
                return Ok(Some(frame));
            }
            match self.fill() {
                Ok(()) => {}
                Err(WireError::Io(e))
                    if matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                    ) =>
                {
                    return Ok(None)
                }
                Err(e) => return Err(e),
            }
        }
    }

    fn take_frame<M: for<'de> Deserialize<'de>>(
        &mut self,
    ) -> Result<Option<(M, Vec<OwnedFd>)>, WireError> {
        if self.buf.len() < 5 {
            return Ok(None);
        }
        let len = u32::from_le_bytes(self.buf[..4].try_into().unwrap()) as usize;
        if len > MAX_MESSAGE_BYTES {
            return Err(WireError::Oversized(len));
        }
        let nfds = self.buf[4] as usize;
        if self.buf.len() < 5 + len {
            return Ok(None);
        }
        if nfds > self.fds.len() {
            return Err(WireError::MissingFds {
                announced: nfds,
                received: self.fds.len(),
            });
        }
        let msg = postcard::from_bytes(&self.buf[5..5 + len])
            .map_err(|e| WireError::Malformed(e.to_string()));
        self.buf.drain(..5 + len);
        let fds = self.fds.drain(..nfds).collect();
        Ok(Some((msg?, fds)))
    }

    fn fill(&mut self) -> Result<(), WireError> {
        let mut chunk = vec![0u8; 64 * 1024];
        let mut cmsg = nix::cmsg_space!([RawFd; MAX_FDS_PER_FRAME]);
        let (n, fds) = {
            let mut iov = [IoSliceMut::new(&mut chunk)];
            let msg = loop {
                match recvmsg::<()>(
                    self.stream.as_raw_fd(),
                    &mut iov,
                    Some(&mut cmsg),
                    MsgFlags::MSG_CMSG_CLOEXEC,
                ) {
                    Err(nix::errno::Errno::EINTR) => continue,
                    other => break other.map_err(io::Error::from)?,
                }
            };
            let mut fds = Vec::new();
            for c in msg.cmsgs().map_err(io::Error::from)? {
                if let ControlMessageOwned::ScmRights(raw) = c {
                    // SAFETY: the kernel just installed these fds in our table for us.
                    fds.extend(
                        raw.into_iter()
                            .map(|fd| unsafe { OwnedFd::from_raw_fd(fd) }),
                    );
                }
            }
            (msg.bytes, fds)
        };
        self.fds.extend(fds);
        if self.fds.len() > MAX_PENDING_FDS {
            let pending = self.fds.len();
            self.fds.clear();
            return Err(WireError::UnannouncedFds(pending));
        }
        if n == 0 {
            return Err(WireError::Closed);
        }
        self.buf.extend_from_slice(&chunk[..n]);
        Ok(())
    }
}

fn send_frame(stream: &UnixStream, frame: &[u8], fds: &[RawFd]) -> Result<(), WireError> {
    let sent = if fds.is_empty() {
        0
    } else {
        let cmsg = [ControlMessage::ScmRights(fds)];
        loop {
            match sendmsg::<()>(
                stream.as_raw_fd(),
                &[IoSlice::new(frame)],
                &cmsg,
                MsgFlags::MSG_NOSIGNAL,
                None,
            ) {
                Err(nix::errno::Errno::EINTR) => continue,
                other => break other.map_err(io::Error::from)?,
            }
        }
    };
    let mut rest = &frame[sent..];
    while !rest.is_empty() {
        match nix::sys::socket::send(stream.as_raw_fd(), rest, MsgFlags::MSG_NOSIGNAL) {
            Ok(n) => rest = &rest[n..],
            Err(nix::errno::Errno::EINTR) => {}
            Err(e) => return Err(io::Error::from(e).into()),
        }
    }
    Ok(())
}

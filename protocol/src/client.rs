//! The client side of the runtime protocol, used by the plugin inside a host (and by tools).
//! One `Connection` serves one render at a time; callers keep a pool for concurrent renders.
use std::collections::{HashMap, VecDeque};
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixStream;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::job::Job;
use crate::paths;
use crate::shm::{content_hash, frame_bytes, FrameView, HeaderLayout, Segment, ShmError};
use crate::wire::{Channel, ClientMsg, FrameRef, RuntimeStatus, SegmentInfo, ServerMsg, WireError};
use crate::PROTOCOL_VERSION;

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("the dreamfx runtime is not running and could not be started: {0}")]
    Start(String),
    #[error(
        "the dreamfx runtime stopped while working (it crashed or was killed). \
         Its log is {log}. Render again to start a new one."
    )]
    RuntimeGone { log: String },
    #[error("the dreamfx runtime refused the connection: {0}")]
    Refused(String),
    #[error("the dreamfx runtime could not render: {0}")]
    RenderFailed(String),
    #[error(
        "the dreamfx runtime (pid {pid}) has not answered for {secs} s: it may be stopped \
         (SIGSTOP, a debugger) or hung. Its log is {log}. Kill it to let a new one start \
         (DREAMFX_RUNTIME_DEADLINE_SECS sets how long to wait)"
    )]
    NotAnswering { pid: u32, secs: u64, log: String },
    #[error("cancelled")]
    Cancelled,
    #[error("protocol error talking to the dreamfx runtime: {0}")]
    Protocol(String),
    #[error("shared memory: {0}")]
    Shm(#[from] ShmError),
}

impl From<WireError> for ClientError {
    fn from(e: WireError) -> Self {
        let gone = match &e {
            WireError::Closed => true,
            WireError::Io(io) => matches!(
                io.kind(),
                std::io::ErrorKind::BrokenPipe | std::io::ErrorKind::ConnectionReset
            ),
            _ => false,
        };
        if gone {
            ClientError::RuntimeGone {
                log: paths::log_path().display().to_string(),
            }
        } else {
            ClientError::Protocol(e.to_string())
        }
    }
}

/// How to find, and if needed start, the runtime.
#[derive(Debug, Clone)]
pub struct RuntimeLocation {
    pub dir: PathBuf,
    /// The runtime executable to start on demand; None: only connect.
    pub executable: Option<PathBuf>,
    /// An on-demand runtime leaves after this long without clients.
    pub idle_exit: Duration,
    pub start_timeout: Duration,
}

impl RuntimeLocation {
    pub fn new(executable: Option<PathBuf>) -> Self {
        let idle = std::env::var("DREAMFX_IDLE_EXIT_SECS")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(300);
        RuntimeLocation {
            dir: paths::runtime_dir(),
            executable,
            idle_exit: Duration::from_secs(idle),
            start_timeout: Duration::from_secs(60),
        }
    }
}

/// What a render reports back while it waits.
pub trait RenderHooks {
    fn progress(&mut self, fraction: f32);
    /// Polled while waiting; true cancels the request.
    fn should_abort(&mut self) -> bool;
}

/// An input frame in canonical form: RGBA f32, rows top-down.
#[derive(Clone, Copy)]
pub struct InputFrame<'a> {
    pub width: u32,
    pub height: u32,
    pub pixels: &'a [f32],
}

pub struct Connection {
    channel: Channel,
    runtime_pid: u32,
    device: String,
    upload: Option<Segment>,
    next_segment_id: u64,
    next_request: u64,
    /// Runtime-owned segments mapped on this side, by the runtime's id.
    mapped: HashMap<u64, Segment>,
    mapped_order: VecDeque<u64>,
    /// How long the runtime may stay silent when asked (see [`deadline`]).
    deadline: Duration,
}

/// Runtime segments one connection keeps mapped (each holds one finished frame).
const MAX_MAPPED_SEGMENTS: usize = 16;

const POLL: Duration = Duration::from_millis(25);

/// After this long without a word from the runtime during a render, the client asks for its
/// status: a busy runtime answers at once (connections have their own threads), a stopped or
/// hung one does not.
const PROBE_AFTER: Duration = Duration::from_secs(2);

/// How long a probe may go unanswered: `$DREAMFX_RUNTIME_DEADLINE_SECS`, default 15 s.
fn deadline() -> Duration {
    std::env::var("DREAMFX_RUNTIME_DEADLINE_SECS")
        .ok()
        .and_then(|s| s.parse::<f64>().ok())
        .filter(|s| s.is_finite() && *s > 0.0)
        .map_or(Duration::from_secs(15), Duration::from_secs_f64)
}

/// `job` naming its input frames by their content hashes.
fn with_input_hashes(job: &Job, inputs: &[InputFrame<'_>]) -> Job {
    let mut job = job.clone();
    job.inputs = inputs
        .iter()
        .map(|f| content_hash(f.width, f.height, f.pixels))
        .collect();
    job
}

impl Connection {
    /// Connects to a running runtime.
    pub fn connect(dir: &Path) -> Result<Connection, ClientError> {
        Self::connect_within(dir, deadline())
    }

    /// [`Self::connect`], giving a silent runtime `deadline` to answer (here and in renders).
    pub fn connect_within(dir: &Path, deadline: Duration) -> Result<Connection, ClientError> {
        let stream = UnixStream::connect(paths::socket_path(dir)).map_err(|e| {
            ClientError::Start(format!(
                "no runtime answers at {}: {e}",
                paths::socket_path(dir).display()
            ))
        })?;
        Self::handshake(stream, deadline)
    }

    /// Connects, starting the runtime if none answers. Concurrent callers may each start one:
    /// the runtime's lock file lets only one survive.
    pub fn connect_or_start(loc: &RuntimeLocation) -> Result<Connection, ClientError> {
        if let Ok(c) = Self::connect(&loc.dir) {
            return Ok(c);
        }
        let exe = loc
            .executable
            .as_ref()
            .ok_or_else(|| ClientError::Start("no runtime executable is known to start".into()))?;
        if !exe.is_file() {
            return Err(ClientError::Start(format!(
                "{} does not exist; reinstall dreamfx.ofx.bundle",
                exe.display()
            )));
        }
        paths::ensure_private_dir(&loc.dir).map_err(|e| ClientError::Start(e.to_string()))?;
        let mut child = Command::new(exe)
            .arg("--on-demand")
            .arg("--idle-exit")
            .arg(loc.idle_exit.as_secs().to_string())
            .env("DREAMFX_RUNTIME_DIR", &loc.dir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            // Its own process group: a Ctrl-C or a signal to the host's group must not kill the
            // runtime other hosts share.
            .process_group(0)
            .spawn()
            .map_err(|e| ClientError::Start(format!("could not run {}: {e}", exe.display())))?;
        let deadline = Instant::now() + loc.start_timeout;
        loop {
            if let Ok(c) = Self::connect(&loc.dir) {
                // Reap it when it leaves so it never lingers as a zombie of the host.
                std::thread::spawn(move || child.wait());
                return Ok(c);
            }
            if let Ok(Some(status)) = child.try_wait() {
                // Lost the race to another starter, which should answer shortly.
                if let Ok(c) = Self::connect(&loc.dir) {
                    return Ok(c);
                }
                if Instant::now() > deadline || !status.success() {
                    return Err(ClientError::Start(format!(
                        "{} exited with {status}; see {}",
                        exe.display(),
                        paths::log_path().display()
                    )));
                }
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                return Err(ClientError::Start(format!(
                    "{} did not answer within {:?}; see {}",
                    exe.display(),
                    loc.start_timeout,
                    paths::log_path().display()
                )));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn handshake(stream: UnixStream, wait: Duration) -> Result<Connection, ClientError> {
        let mut channel = Channel::new(stream);
        channel.send(
            &ClientMsg::Hello {
                protocol: PROTOCOL_VERSION,
                header_layout: HeaderLayout::this_build(),
                client: format!("dreamfx plugin {}", env!("CARGO_PKG_VERSION")),
            },
            &[],
        )?;
        match channel.recv::<ServerMsg>(Some(wait))? {
            Some((
                ServerMsg::Welcome {
                    runtime_pid,
                    device,
                    ..
                },
                _,
            )) => Ok(Connection {
                channel,
                runtime_pid,
                device,
                upload: None,
                next_segment_id: 1,
                next_request: 1,
                mapped: HashMap::new(),
                mapped_order: VecDeque::new(),
                deadline: wait,
            }),
            Some((ServerMsg::Refused { reason }, _)) => Err(ClientError::Refused(reason)),
            Some((other, _)) => Err(ClientError::Protocol(format!(
                "expected Welcome, got {other:?}"
            ))),
            None => Err(ClientError::Start(format!(
                "a runtime holds the socket but did not answer within {} s: it may be stopped \
                 or hung; see {} (DREAMFX_RUNTIME_DEADLINE_SECS sets how long to wait)",
                wait.as_secs_f64(),
                paths::log_path().display()
            ))),
        }
    }

    pub fn runtime_pid(&self) -> u32 {
        self.runtime_pid
    }
    pub fn device(&self) -> &str {
        &self.device
    }

    /// Sends `job` with its input frames and waits for the result. The job's `inputs` are
    /// filled in here from the frames' content.
    pub fn render(
        &mut self,
        job: &Job,
        inputs: &[InputFrame<'_>],
        hooks: &mut dyn RenderHooks,
    ) -> Result<FrameView<'_>, ClientError> {
        let job = with_input_hashes(job, inputs);
        let request = self.next_request();
        // First ask without pixels: a cached frame needs no upload.
        self.channel.send(
            &ClientMsg::Render {
                request,
                job: job.clone(),
                inputs: vec![],
                new_segment: None,
            },
            &[],
        )?;
        let mut cancelled = false;
        let deadline = self.deadline;
        let mut last_heard = Instant::now();
        let mut probed: Option<Instant> = None;
        loop {
            if !cancelled && hooks.should_abort() {
                self.channel.send(&ClientMsg::Cancel { request }, &[])?;
                cancelled = true;
            }
            let Some((msg, mut fds)) = self.channel.recv::<ServerMsg>(Some(POLL))? else {
                match probed {
                    None if last_heard.elapsed() > PROBE_AFTER => {
                        self.channel.send(&ClientMsg::Status, &[])?;
                        probed = Some(Instant::now());
                    }
                    Some(at) if at.elapsed() > deadline => {
                        return Err(self.not_answering(last_heard.elapsed()));
                    }
                    _ => {}
                }
                continue;
            };
            last_heard = Instant::now();
            probed = None;
            match msg {
                ServerMsg::NeedInputs { request: r } if r == request && !cancelled => {
                    self.resend_with_inputs(inputs, |inputs, new_segment| ClientMsg::Render {
                        request,
                        job: job.clone(),
                        inputs,
                        new_segment,
                    })?;
                }
                ServerMsg::NeedInputs { request: r } if r == request => {
                    return Err(ClientError::Cancelled)
                }
                ServerMsg::Progress {
                    request: r,
                    fraction,
                } if r == request => hooks.progress(fraction),
                ServerMsg::FrameReady {
                    request: r,
                    frame,
                    new_segment,
                    ..
                } if r == request => {
                    if let Some(info) = new_segment {
                        let fd = fds.pop().ok_or_else(|| {
                            ClientError::Protocol("segment announced without its fd".into())
                        })?;
                        self.map_segment(Segment::from_fd(info.id, fd, info.len)?)?;
                    }
                    if cancelled {
                        return Err(ClientError::Cancelled);
                    }
                    let seg = self.mapped.get(&frame.segment).ok_or_else(|| {
                        ClientError::Protocol(format!("unknown segment {}", frame.segment))
                    })?;
                    return Ok(seg.read_frame(frame.offset)?);
                }
                ServerMsg::Failed {
                    request: r,
                    message,
                } if r == request => {
                    return Err(if cancelled {
                        ClientError::Cancelled
                    } else {
                        ClientError::RenderFailed(message)
                    })
                }
                ServerMsg::ProtocolError { message } => return Err(ClientError::Protocol(message)),
                // Late answers to an earlier, abandoned request.
                _ => {}
            }
        }
    }

    /// Keeps the newest few runtime segments mapped (a frame asked for again is then served
    /// without a new mapping) and lets go of older ones, telling the runtime so.
    fn map_segment(&mut self, seg: Segment) -> Result<(), ClientError> {
        self.mapped_order.push_back(seg.id());
        self.mapped.insert(seg.id(), seg);
        while self.mapped_order.len() > MAX_MAPPED_SEGMENTS {
            let old = self.mapped_order.pop_front().unwrap();
            self.mapped.remove(&old);
            self.channel
                .send(&ClientMsg::ForgetSegment { id: old }, &[])?;
        }
        Ok(())
    }

    /// How many runtime segments this connection has mapped now.
    pub fn mapped_segments(&self) -> usize {
        self.mapped.len()
    }

    fn not_answering(&self, silent: Duration) -> ClientError {
        ClientError::NotAnswering {
            pid: self.runtime_pid,
            secs: silent.as_secs(),
            log: paths::log_path().display().to_string(),
        }
    }

    pub fn status(&mut self) -> Result<RuntimeStatus, ClientError> {
        self.channel.send(&ClientMsg::Status, &[])?;
        let asked = Instant::now();
        loop {
            match self.channel.recv::<ServerMsg>(Some(self.deadline))? {
                Some((ServerMsg::Status(s), _)) => return Ok(s),
                Some(_) => continue,
                None => return Err(self.not_answering(asked.elapsed())),
            }
        }
    }

    /// Asks the runtime to make `job` (a whole generated clip, for "Generate now") and returns
    /// once it is queued or already cached, without waiting for it.
    pub fn prepare(&mut self, job: &Job, inputs: &[InputFrame<'_>]) -> Result<(), ClientError> {
        let job = with_input_hashes(job, inputs);
        let request = self.next_request();
        self.channel.send(
            &ClientMsg::Prepare {
                request,
                job: job.clone(),
                inputs: vec![],
                new_segment: None,
            },
            &[],
        )?;
        let asked = Instant::now();
        loop {
            let Some((answer, mut fds)) = self.channel.recv::<ServerMsg>(Some(POLL))? else {
                if asked.elapsed() > self.deadline {
                    return Err(self.not_answering(asked.elapsed()));
                }
                continue;
            };
            match answer {
                ServerMsg::Queued { request: r } if r == request => return Ok(()),
                ServerMsg::FrameReady {
                    request: r,
                    new_segment,
                    ..
                } if r == request => {
                    // Already made. Map the segment so the runtime's bookkeeping of what this
                    // connection holds stays true.
                    if let Some(info) = new_segment {
                        if let Some(fd) = fds.pop() {
                            self.map_segment(Segment::from_fd(info.id, fd, info.len)?)?;
                        }
                    }
                    return Ok(());
                }
                ServerMsg::NeedInputs { request: r } if r == request => {
                    self.resend_with_inputs(inputs, |inputs, new_segment| ClientMsg::Prepare {
                        request,
                        job: job.clone(),
                        inputs,
                        new_segment,
                    })?;
                }
                ServerMsg::Failed {
                    request: r,
                    message,
                } if r == request => return Err(ClientError::RenderFailed(message)),
                ServerMsg::ProtocolError { message } => return Err(ClientError::Protocol(message)),
                _ => {}
            }
        }
    }

    /// For each of `texts`, what `model` (empty: the built-in model) cannot read: "" when it
    /// reads every word.
    pub fn check_prompt(
        &mut self,
        model: &str,
        texts: &[&str],
    ) -> Result<Vec<String>, ClientError> {
        let request = self.next_request();
        self.channel.send(
            &ClientMsg::CheckPrompt {
                request,
                model: model.into(),
                texts: texts.iter().map(|t| t.to_string()).collect(),
            },
            &[],
        )?;
        let asked = Instant::now();
        loop {
            match self.channel.recv::<ServerMsg>(Some(self.deadline))? {
                Some((ServerMsg::PromptChecked { request: r, notes }, _)) if r == request => {
                    return Ok(notes)
                }
                Some((
                    ServerMsg::Failed {
                        request: r,
                        message,
                    },
                    _,
                )) if r == request => return Err(ClientError::RenderFailed(message)),
                Some((ServerMsg::ProtocolError { message }, _)) => {
                    return Err(ClientError::Protocol(message))
                }
                Some(_) => continue,
                None => return Err(self.not_answering(asked.elapsed())),
            }
        }
    }

    pub fn purge_cache(&mut self) -> Result<(), ClientError> {
        self.channel.send(&ClientMsg::PurgeCache, &[])?;
        Ok(())
    }

    /// Copies the inputs into this connection's upload segment, growing it (a new segment, sent
    /// along with the request) when they do not fit.
    fn next_request(&mut self) -> u64 {
        self.next_request += 1;
        self.next_request - 1
    }

    /// Copies `inputs` into the upload segment and sends the message `resend` makes of their
    /// references (with the segment's fd when the runtime does not hold it yet).
    fn resend_with_inputs(
        &mut self,
        inputs: &[InputFrame<'_>],
        resend: impl FnOnce(Vec<FrameRef>, Option<SegmentInfo>) -> ClientMsg,
    ) -> Result<(), ClientError> {
        let (refs, new_segment) = self.upload(inputs)?;
        let fds: Vec<_> = new_segment
            .map(|_| self.upload.as_ref().unwrap().fd().as_raw_fd())
            .into_iter()
            .collect();
        self.channel.send(&resend(refs, new_segment), &fds)?;
        Ok(())
    }

    fn upload(
        &mut self,
        inputs: &[InputFrame<'_>],
    ) -> Result<(Vec<FrameRef>, Option<SegmentInfo>), ClientError> {
        let mut offsets = Vec::with_capacity(inputs.len());
        let mut total = 0u64;
        for f in inputs {
            if f.pixels.len() != f.width as usize * f.height as usize * 4 {
                return Err(ClientError::Protocol(format!(
                    "input frame {}x{} has {} floats",
                    f.width,
                    f.height,
                    f.pixels.len()
                )));
            }
            offsets.push(total);
            total += frame_bytes(f.width, f.height).next_multiple_of(64);
        }
        let mut new_segment = None;
        if self.upload.as_ref().is_none_or(|s| s.len() < total.max(1)) {
            let id = self.next_segment_id;
            self.next_segment_id += 1;
            let seg = Segment::create(id, total.max(4096))?;
            new_segment = Some(SegmentInfo { id, len: seg.len() });
            self.upload = Some(seg);
        }
        let seg = self.upload.as_ref().unwrap();
        let mut refs = Vec::with_capacity(inputs.len());
        for (f, &offset) in inputs.iter().zip(&offsets) {
            seg.write_frame(offset, f.width, f.height, f.pixels, [0; 32])?;
            refs.push(FrameRef {
                segment: seg.id(),
                offset,
            });
        }
        Ok((refs, new_segment))
    }
}

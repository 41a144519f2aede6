//! The socket side of the runtime: accepts clients, checks who they are, answers from the cache,
//! and queues the rest for the single compute worker. Socket readers never run model code, so a
//! long generation never stops the runtime from answering other clients.
use std::collections::{HashMap, HashSet, VecDeque};
use std::os::fd::AsRawFd;
use std::os::unix::net::{UnixListener, UnixStream};
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender, TrySendError};
use dreamfx_effects as effects;
use dreamfx_protocol::job::{Job, JobKey, MAX_FRAME_PIXELS};
use dreamfx_protocol::shm::{content_hash, frame_bytes, HeaderLayout, Segment, FRAME_DATA_OFFSET};
use dreamfx_protocol::wire::{
    Channel, ClientMsg, FrameRef, RuntimeStatus, SegmentInfo, ServerMsg, WireError,
};
use dreamfx_protocol::PROTOCOL_VERSION;
use log::{info, warn};
use parking_lot::Mutex;

use crate::cache::FrameCache;
use crate::runners::generate::GenerateRunner;
use crate::runners::{Frame, RunError, Runners};

/// Jobs waiting for the worker beyond this are refused with a "busy" message.
const QUEUE_DEPTH: usize = 256;

/// Bytes of upload segments one client may have mapped here, and bytes of input frames it may
/// have copied out and waiting for the worker: the inputs of the widest job at the largest frame
/// size (Temporal Refine at radius 15, 31 frames of 8192x8192), so any valid job fits, and a
/// client cannot make the runtime hold more than that for it.
fn max_client_bytes() -> u64 {
    let widest = effects::ALL
        .iter()
        .map(|e| e.declared_max_inputs())
        .max()
        .unwrap_or(1) as u64;
    widest * (FRAME_DATA_OFFSET + MAX_FRAME_PIXELS * 16).next_multiple_of(64)
}

/// The upload segments one client has handed over, oldest first. The client writes into its
/// newest one; older ones are let go when the client's total would pass [`max_client_bytes`].
#[derive(Default)]
struct Uploads {
    segments: VecDeque<Segment>,
}

impl Uploads {
    fn add(&mut self, seg: Segment) -> Result<(), String> {
        let limit = max_client_bytes();
        if seg.len() > limit {
            return Err(format!(
                "upload segment {} is {} bytes, more than the {limit} bytes a client may hand \
                 the runtime; send at most one job's input frames",
                seg.id(),
                seg.len()
            ));
        }
        self.segments.retain(|s| s.id() != seg.id());
        while self.segments.iter().map(Segment::len).sum::<u64>() + seg.len() > limit {
            self.segments.pop_front();
        }
        self.segments.push_back(seg);
        Ok(())
    }

    fn get(&self, id: u64) -> Option<&Segment> {
        self.segments.iter().find(|s| s.id() == id)
    }
}

pub struct Config {
    pub cache_bytes: u64,
    /// Where generated clips' segments outlive this process (None: memory only).
    pub disk_cache: Option<dreamfx_disk_cache::DiskCache>,
    /// Leave after this long with no clients and no work (on-demand runtimes).
    pub idle_exit: Option<Duration>,
}

/// One connected client, as the worker sees it: where to send answers.
struct Client {
    writer: Mutex<Channel>,
    /// Runtime segments whose fd this client already holds.
    segments_sent: Mutex<HashSet<u64>>,
    /// Bytes of this client's input frames copied out and not yet run or dropped.
    queued_bytes: AtomicU64,
}

impl Client {
    fn send(&self, msg: &ServerMsg) {
        if let Err(e) = self.writer.lock().send(msg, &[]) {
            log::debug!("client gone while answering: {e}");
        }
    }

    fn send_frame(&self, request: u64, segment: &Segment, from_cache: bool) {
        let first_time = self.segments_sent.lock().insert(segment.id());
        let msg = ServerMsg::FrameReady {
            request,
            frame: FrameRef {
                segment: segment.id(),
                offset: 0,
            },
            new_segment: first_time.then(|| SegmentInfo {
                id: segment.id(),
                len: segment.len(),
            }),
            from_cache,
        };
        let fds = if first_time {
            vec![segment.fd().as_raw_fd()]
        } else {
            vec![]
        };
        if let Err(e) = self.writer.lock().send(&msg, &fds) {
            log::debug!("client gone while answering: {e}");
        }
    }
}

struct Waiter {
    client: Arc<Client>,
    request: u64,
    /// A `Prepare`: made whether or not its client is still there, answered to nobody.
    detached: bool,
}

struct InFlight {
    waiters: Vec<Waiter>,
    cancel: Arc<AtomicBool>,
    inputs: SharedInputs,
}

/// A job's copied input frames, charged to the client that sent them until they are dropped:
/// when the worker is done with them, or at once when the job is cancelled while it waits.
struct Inputs {
    frames: Vec<Frame>,
    client: Arc<Client>,
    bytes: u64,
}

impl Drop for Inputs {
    fn drop(&mut self) {
        self.client
            .queued_bytes
            .fetch_sub(self.bytes, Ordering::SeqCst);
    }
}

type SharedInputs = Arc<Mutex<Option<Inputs>>>;

struct Work {
    key: JobKey,
    job: Job,
    inputs: SharedInputs,
    cancel: Arc<AtomicBool>,
}

pub struct Runtime {
    runners: Runners,
    cache: Mutex<FrameCache>,
    in_flight: Mutex<HashMap<JobKey, InFlight>>,
    work: Sender<Work>,
    connections: AtomicU32,
    next_segment: AtomicU64,
    jobs_run: AtomicU64,
    jobs_cancelled: AtomicU64,
    cache_hits: AtomicU64,
    last_activity: Mutex<Instant>,
}

impl Runtime {
    /// Serves `listener` until the idle timeout (if any) passes.
    pub fn serve(listener: UnixListener, config: Config) {
        let (tx, rx) = crossbeam_channel::bounded(QUEUE_DEPTH);
        let rt = Arc::new(Runtime {
            runners: Runners::new(GenerateRunner::new(
                dreamfx_tiny::builtin_model_dir(),
                config.disk_cache,
            )),
            cache: Mutex::new(FrameCache::new(config.cache_bytes)),
            in_flight: Mutex::new(HashMap::new()),
            work: tx,
            connections: AtomicU32::new(0),
            next_segment: AtomicU64::new(1),
            jobs_run: AtomicU64::new(0),
            jobs_cancelled: AtomicU64::new(0),
            cache_hits: AtomicU64::new(0),
            last_activity: Mutex::new(Instant::now()),
        });
        {
            let rt = rt.clone();
            std::thread::Builder::new()
                .name("worker".into())
                .spawn(move || rt.worker(rx))
                .expect("spawn worker");
        }
        if let Some(idle) = config.idle_exit {
            let rt = rt.clone();
            std::thread::spawn(move || loop {
                std::thread::sleep(Duration::from_millis(500));
                let busy =
                    rt.connections.load(Ordering::SeqCst) > 0 || !rt.in_flight.lock().is_empty();
                if busy {
                    *rt.last_activity.lock() = Instant::now();
                } else if rt.last_activity.lock().elapsed() > idle {
                    info!("idle for {idle:?} with no clients: leaving");
                    std::process::exit(0);
                }
            });
        }
        for stream in listener.incoming() {
            match stream {
                Ok(stream) => {
                    let rt = rt.clone();
                    std::thread::spawn(move || rt.connection(stream));
                }
                Err(e) => warn!("accept failed: {e}"),
            }
        }
    }

    fn connection(self: Arc<Self>, stream: UnixStream) {
        let peer =
            nix::sys::socket::getsockopt(&stream, nix::sys::socket::sockopt::PeerCredentials);
        let me = nix::unistd::getuid().as_raw();
        match peer {
            Ok(cred) if cred.uid() == me => {}
            other => {
                warn!("refusing a connection from another user: {other:?}");
                return;
            }
        }
        let writer = match stream.try_clone() {
            Ok(w) => Channel::new(w),
            Err(e) => return warn!("could not clone client socket: {e}"),
        };
        let client = Arc::new(Client {
            writer: Mutex::new(writer),
            segments_sent: Mutex::new(HashSet::new()),
            queued_bytes: AtomicU64::new(0),
        });
        let mut reader = Channel::new(stream);
        if !self.handshake(&mut reader, &client) {
            return;
        }
        self.connections.fetch_add(1, Ordering::SeqCst);
        let mut uploads = Uploads::default();
        loop {
            let (msg, fds) = match reader.recv::<ClientMsg>(None) {
                Ok(Some(m)) => m,
                Ok(None) => continue,
                Err(WireError::Closed) => break,
                Err(e) => {
                    warn!("bad message from a client, closing it: {e}");
                    client.send(&ServerMsg::ProtocolError {
                        message: e.to_string(),
                    });
                    break;
                }
            };
            // A Prepare is a Render whose result nobody waits for ("Generate now").
            let detached = matches!(msg, ClientMsg::Prepare { .. });
            match msg {
                ClientMsg::Render {
                    request,
                    job,
                    inputs,
                    new_segment,
                }
                | ClientMsg::Prepare {
                    request,
                    job,
                    inputs,
                    new_segment,
                } => {
                    if let Some(info) = new_segment {
                        let Some(fd) = fds.into_iter().next() else {
                            client.send(&ServerMsg::ProtocolError {
                                message: "segment announced without its fd".into(),
                            });
                            break;
                        };
                        // An unsealed or wrongly sized segment is refused before it is mapped:
                        // its owner could shrink it under us, and reading it would be SIGBUS.
                        let added = Segment::from_fd(info.id, fd, info.len)
                            .map_err(|e| e.to_string())
                            .and_then(|seg| uploads.add(seg));
                        if let Err(message) = added {
                            warn!("refused an upload segment: {message}");
                            client.send(&ServerMsg::Failed { request, message });
                            continue;
                        }
                    }
                    if let Err(message) =
                        self.render(&client, request, job, &inputs, &uploads, detached)
                    {
                        client.send(&ServerMsg::Failed { request, message });
                    }
                }
                ClientMsg::CheckPrompt {
                    request,
                    model,
                    texts,
                } => {
                    // On this connection's thread: loading a model for its tokenizer never
                    // waits behind a generation.
                    let answer = match self.runners.generator().check_prompts(&model, &texts) {
                        Ok(notes) => ServerMsg::PromptChecked { request, notes },
                        Err(message) => ServerMsg::Failed { request, message },
                    };
                    client.send(&answer);
                }
                ClientMsg::Cancel { request } => {
                    self.drop_waiters(&client, Some(request));
                    // Answer now: the job may go on for other waiters, but this one is done.
                    client.send(&ServerMsg::Failed {
                        request,
                        message: "cancelled".into(),
                    });
                }
                ClientMsg::ForgetSegment { id } => {
                    client.segments_sent.lock().remove(&id);
                }
                ClientMsg::PurgeCache => {
                    self.cache.lock().clear();
                    self.runners.generator().clear_memory();
                }
                ClientMsg::Status => client.send(&ServerMsg::Status(self.status())),
                ClientMsg::Hello { .. } => {
                    client.send(&ServerMsg::ProtocolError {
                        message: "Hello sent twice".into(),
                    });
                    break;
                }
            }
        }
        self.drop_waiters(&client, None);
        self.connections.fetch_sub(1, Ordering::SeqCst);
        *self.last_activity.lock() = Instant::now();
    }

    fn handshake(&self, reader: &mut Channel, client: &Client) -> bool {
        let refuse = |reason: String| {
            warn!("handshake refused: {reason}");
            client.send(&ServerMsg::Refused { reason });
            false
        };
        match reader.recv::<ClientMsg>(Some(Duration::from_secs(10))) {
            Ok(Some((
                ClientMsg::Hello {
                    protocol,
                    header_layout,
                    client: name,
                },
                _,
            ))) => {
                if protocol != PROTOCOL_VERSION {
                    return refuse(format!(
                        "the plugin speaks dreamfx protocol {protocol} but this runtime speaks \
                         {PROTOCOL_VERSION}; install the plugin and runtime from the same bundle"
                    ));
                }
                if header_layout != HeaderLayout::this_build() {
                    return refuse(format!(
                        "frame header layout differs (plugin {header_layout:?}, runtime {:?}); \
                         install the plugin and runtime from the same bundle",
                        HeaderLayout::this_build()
                    ));
                }
                log::debug!("client connected: {name}");
                client.send(&ServerMsg::Welcome {
                    protocol: PROTOCOL_VERSION,
                    runtime_pid: std::process::id(),
                    device: self.runners.device_name().into(),
                });
                true
            }
            Ok(Some((other, _))) => refuse(format!("expected Hello, got {other:?}")),
            Ok(None) => refuse("no Hello within 10 s".into()),
            Err(e) => {
                client.send(&ServerMsg::ProtocolError {
                    message: e.to_string(),
                });
                false
            }
        }
    }

    fn render(
        &self,
        client: &Arc<Client>,
        request: u64,
        mut job: Job,
        inputs: &[FrameRef],
        uploads: &Uploads,
        detached: bool,
    ) -> Result<(), String> {
        job.canonicalise();
        let spec =
            effects::by_id(&job.effect).ok_or_else(|| format!("unknown effect {}", job.effect))?;
        spec.validate(&job)?;
        if !inputs.is_empty() && inputs.len() != job.inputs.len() {
            return Err(format!(
                "{} input frames sent for {} declared",
                inputs.len(),
                job.inputs.len()
            ));
        }
        let key = job.key(&self.runners.identity(&job)?);
        if let Some(seg) = self.cache.lock().get(&key) {
            self.cache_hits.fetch_add(1, Ordering::Relaxed);
            client.send_frame(request, &seg, true);
            return Ok(());
        }
        let waiter = Waiter {
            client: client.clone(),
            request,
            detached,
        };
        let say_queued = || {
            if detached {
                client.send(&ServerMsg::Queued { request });
            }
        };
        let mut in_flight = self.in_flight.lock();
        if let Some(job) = in_flight.get_mut(&key) {
            job.waiters.push(waiter);
            say_queued();
            return Ok(());
        }
        if inputs.is_empty() && !job.inputs.is_empty() {
            drop(in_flight);
            client.send(&ServerMsg::NeedInputs { request });
            return Ok(());
        }
        let bytes = inputs.len() as u64 * frame_bytes(job.width, job.height);
        let queued = client.queued_bytes.load(Ordering::SeqCst);
        // One job of any valid size is always taken; more only up to the client's share.
        if queued > 0 && queued + bytes > max_client_bytes() {
            return Err(format!(
                "this client already has {queued} bytes of input frames waiting in the runtime \
                 (at most {} at a time); wait for its renders to finish and try again",
                max_client_bytes()
            ));
        }
        // Copy the inputs out now: the client may reuse its upload segment once answered.
        client.queued_bytes.fetch_add(bytes, Ordering::SeqCst);
        let mut charged = Inputs {
            frames: Vec::with_capacity(inputs.len()),
            client: client.clone(),
            bytes,
        };
        for r in inputs {
            let seg = uploads
                .get(r.segment)
                .ok_or_else(|| format!("unknown upload segment {}", r.segment))?;
            let view = seg.read_frame(r.offset).map_err(|e| e.to_string())?;
            // A filter's inputs are its frame's size; a generator's conditioning frame is
            // whatever size the Source has (the runner fits it to the model).
            let conditioning = matches!(spec.inputs, effects::InputWindow::Conditioning);
            if !conditioning && (view.width, view.height) != (job.width, job.height) {
                return Err(format!(
                    "input frame is {}x{} but the job is {}x{}",
                    view.width, view.height, job.width, job.height
                ));
            }
            // Hash the copy, not the shared pages: the client can still write those, and the
            // hash must vouch for exactly the pixels the job (and the cache) will use.
            let pixels = view.pixels.to_vec();
            if content_hash(view.width, view.height, &pixels) != job.inputs[charged.frames.len()] {
                return Err("an input frame does not match its content hash".into());
            }
            charged.frames.push(Frame {
                width: view.width,
                height: view.height,
                pixels,
            });
        }
        let cancel = Arc::new(AtomicBool::new(false));
        let shared = Arc::new(Mutex::new(Some(charged)));
        let work = Work {
            key,
            job,
            inputs: shared.clone(),
            cancel: cancel.clone(),
        };
        match self.work.try_send(work) {
            Ok(()) => {
                in_flight.insert(
                    key,
                    InFlight {
                        waiters: vec![waiter],
                        cancel,
                        inputs: shared,
                    },
                );
                say_queued();
                Ok(())
            }
            Err(TrySendError::Full(_)) => Err(format!(
                "the runtime is busy ({QUEUE_DEPTH} jobs queued); try again"
            )),
            Err(TrySendError::Disconnected(_)) => Err("the runtime's worker has stopped".into()),
        }
    }

    /// Removes a client's waiters (one request, or all when it left); a job nobody waits for
    /// any more is cancelled.
    fn drop_waiters(&self, client: &Arc<Client>, request: Option<u64>) {
        let mut in_flight = self.in_flight.lock();
        in_flight.retain(|_, job| {
            job.waiters.retain(|w| {
                w.detached
                    || !(Arc::ptr_eq(&w.client, client) && request.is_none_or(|r| r == w.request))
            });
            if job.waiters.is_empty() {
                job.cancel.store(true, Ordering::SeqCst);
                // Frees the copies now if the job is still queued (the worker took them if not).
                job.inputs.lock().take();
                false
            } else {
                true
            }
        });
    }

    fn worker(self: Arc<Self>, rx: Receiver<Work>) {
        while let Ok(work) = rx.recv() {
            let Some(inputs) = work.inputs.lock().take() else {
                continue; // cancelled while it waited
            };
            if work.cancel.load(Ordering::SeqCst) {
                continue;
            }
            let started = Instant::now();
            let key = work.key;
            let mut report = |fraction: f32| {
                if work.cancel.load(Ordering::SeqCst) {
                    return false;
                }
                if let Some(job) = self.in_flight.lock().get(&key) {
                    for w in job.waiters.iter().filter(|w| !w.detached) {
                        w.client.send(&ServerMsg::Progress {
                            request: w.request,
                            fraction,
                        });
                    }
                }
                true
            };
            let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                self.runners.run(&work.job, &inputs.frames, &mut report)
            }))
            .unwrap_or_else(|panic| {
                let what = panic
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_else(|| "unknown panic".into());
                Err(RunError::Failed(format!("internal error: {what}")))
            });
            drop(inputs);
            self.jobs_run.fetch_add(1, Ordering::Relaxed);
            let outcome = result.and_then(|pixels| {
                let (width, height) = check_output(&work.job, &pixels)?;
                let id = self.next_segment.fetch_add(1, Ordering::Relaxed);
                let seg = Segment::create(id, frame_bytes(width, height))
                    .map_err(|e| RunError::Failed(e.to_string()))?;
                seg.write_frame(0, width, height, &pixels, key.0)
                    .map_err(|e| RunError::Failed(e.to_string()))?;
                Ok(Arc::new(seg))
            });
            let waiters = self
                .in_flight
                .lock()
                .remove(&key)
                .map(|j| j.waiters)
                .unwrap_or_default();
            match outcome {
                Ok(seg) => {
                    info!(
                        "{} {key} done in {:.2?}",
                        work.job.effect,
                        started.elapsed()
                    );
                    // A preview may be a draft standing in for a clip not made yet: it is
                    // answered, never cached.
                    if !work.job.position.is_some_and(|p| p.preview) {
                        self.cache.lock().insert(key, seg.clone());
                    }
                    for w in waiters.iter().filter(|w| !w.detached) {
                        w.client.send_frame(w.request, &seg, false);
                    }
                }
                Err(RunError::Cancelled) => {
                    self.jobs_cancelled.fetch_add(1, Ordering::Relaxed);
                    info!("{key} cancelled")
                }
                Err(e) => {
                    warn!("{} {key} failed: {e}", work.job.effect);
                    for w in waiters.iter().filter(|w| !w.detached) {
                        w.client.send(&ServerMsg::Failed {
                            request: w.request,
                            message: e.to_string(),
                        });
                    }
                }
            }
            *self.last_activity.lock() = Instant::now();
        }
    }

    fn status(&self) -> RuntimeStatus {
        let cache = self.cache.lock();
        RuntimeStatus {
            pid: std::process::id(),
            connections: self.connections.load(Ordering::SeqCst),
            cached_frames: cache.len() as u32,
            cache_bytes: cache.bytes(),
            jobs_run: self.jobs_run.load(Ordering::Relaxed),
            jobs_cancelled: self.jobs_cancelled.load(Ordering::Relaxed),
            cache_hits: self.cache_hits.load(Ordering::Relaxed),
            segments_generated: self.runners.generator().segments_generated(),
        }
    }
}

/// A result is cached and sent only when it is a whole frame of finite pixels: NaN or Inf would
/// be served to every later request for the same job. Returns the frame's size (the effect's
/// output size, e.g. an upscale's).
fn check_output(job: &Job, pixels: &[f32]) -> Result<(u32, u32), RunError> {
    let spec = effects::by_id(&job.effect);
    let label = spec.map_or(job.effect.as_str(), |e| e.label);
    let (width, height) = spec.map_or((job.width, job.height), |s| s.output_size(job));
    let expected = width as usize * height as usize * 4;
    if pixels.len() != expected {
        return Err(RunError::Failed(format!(
            "{label} produced {} values for a {width}x{height} frame ({expected} expected); \
             nothing was cached. This is a bug in dreamfx: please report it with the runtime log",
            pixels.len(),
        )));
    }
    let bad = pixels.iter().filter(|v| !v.is_finite()).count();
    if bad > 0 {
        return Err(RunError::Failed(format!(
            "{label} produced {bad} NaN or infinite values in its {width}x{height} frame; \
             nothing was written or cached. Check the source frames for NaN/Inf pixels"
        )));
    }
    Ok((width, height))
}

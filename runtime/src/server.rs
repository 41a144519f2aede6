//! The socket side of the runtime: accepts clients, checks who they are, answers from the cache,
//! and queues the rest for the single compute worker. Socket readers never run model code, so a
//! long generation never stops the runtime from answering other clients.
use std::collections::{HashMap, HashSet};
use std::os::fd::AsRawFd;
use std::os::unix::net::{UnixListener, UnixStream};
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender, TrySendError};
use dreamfx_protocol::effects;
use dreamfx_protocol::job::{Job, JobKey};
use dreamfx_protocol::shm::{content_hash, frame_bytes, HeaderLayout, Segment};
use dreamfx_protocol::wire::{
    Channel, ClientMsg, FrameRef, RuntimeStatus, SegmentInfo, ServerMsg, WireError,
};
use dreamfx_protocol::PROTOCOL_VERSION;
use log::{info, warn};
use parking_lot::Mutex;

use crate::cache::FrameCache;
use crate::engine::{Engine, EngineError, Frame};

/// Jobs waiting for the worker beyond this are refused with a "busy" message.
const QUEUE_DEPTH: usize = 256;

pub struct Config {
    pub cache_bytes: u64,
    /// Leave after this long with no clients and no work (on-demand runtimes).
    pub idle_exit: Option<Duration>,
}

/// One connected client, as the worker sees it: where to send answers.
struct Client {
    writer: Mutex<Channel>,
    /// Runtime segments whose fd this client already holds.
    segments_sent: Mutex<HashSet<u64>>,
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
}

struct InFlight {
    waiters: Vec<Waiter>,
    cancel: Arc<AtomicBool>,
}

struct Work {
    key: JobKey,
    job: Job,
    inputs: Vec<Frame>,
    cancel: Arc<AtomicBool>,
}

pub struct Runtime {
    engine: Engine,
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
            engine: Engine::new(),
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
        });
        let mut reader = Channel::new(stream);
        if !self.handshake(&mut reader, &client) {
            return;
        }
        self.connections.fetch_add(1, Ordering::SeqCst);
        let mut uploads: HashMap<u64, Segment> = HashMap::new();
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
            match msg {
                ClientMsg::Render {
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
                        match Segment::from_fd(info.id, fd, info.len) {
                            Ok(seg) => {
                                uploads.insert(info.id, seg);
                            }
                            Err(e) => {
                                client.send(&ServerMsg::Failed {
                                    request,
                                    message: e.to_string(),
                                });
                                continue;
                            }
                        }
                    }
                    if let Err(message) = self.render(&client, request, job, &inputs, &uploads) {
                        client.send(&ServerMsg::Failed { request, message });
                    }
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
                ClientMsg::PurgeCache => self.cache.lock().clear(),
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
                    device: self.engine.device_name().into(),
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
        uploads: &HashMap<u64, Segment>,
    ) -> Result<(), String> {
        job.canonicalise();
        let spec =
            effects::by_id(&job.effect).ok_or_else(|| format!("unknown effect {}", job.effect))?;
        spec.validate(&job)?;
        if job.inputs.is_empty() {
            return Err("the job names no input frames".into());
        }
        if !inputs.is_empty() && inputs.len() != job.inputs.len() {
            return Err(format!(
                "{} input frames sent for {} declared",
                inputs.len(),
                job.inputs.len()
            ));
        }
        if job.centre as usize >= job.inputs.len() {
            return Err(format!("centre frame {} out of range", job.centre));
        }
        let key = job.key(&self.engine.identity(&job));
        if let Some(seg) = self.cache.lock().get(&key) {
            self.cache_hits.fetch_add(1, Ordering::Relaxed);
            client.send_frame(request, &seg, true);
            return Ok(());
        }
        let waiter = Waiter {
            client: client.clone(),
            request,
        };
        let mut in_flight = self.in_flight.lock();
        if let Some(job) = in_flight.get_mut(&key) {
            job.waiters.push(waiter);
            return Ok(());
        }
        if inputs.is_empty() {
            drop(in_flight);
            client.send(&ServerMsg::NeedInputs { request });
            return Ok(());
        }
        // Copy the inputs out now: the client may reuse its upload segment once answered.
        let mut frames = Vec::with_capacity(inputs.len());
        for r in inputs {
            let seg = uploads
                .get(&r.segment)
                .ok_or_else(|| format!("unknown upload segment {}", r.segment))?;
            let view = seg.read_frame(r.offset).map_err(|e| e.to_string())?;
            let hash = content_hash(view.width, view.height, view.pixels);
            if hash != job.inputs[frames.len()] {
                return Err("an input frame does not match its content hash".into());
            }
            if (view.width, view.height) != (job.width, job.height) {
                return Err(format!(
                    "input frame is {}x{} but the job is {}x{}",
                    view.width, view.height, job.width, job.height
                ));
            }
            frames.push(Frame {
                width: view.width,
                height: view.height,
                pixels: view.pixels.to_vec(),
            });
        }
        let cancel = Arc::new(AtomicBool::new(false));
        let work = Work {
            key,
            job,
            inputs: frames,
            cancel: cancel.clone(),
        };
        match self.work.try_send(work) {
            Ok(()) => {
                in_flight.insert(
                    key,
                    InFlight {
                        waiters: vec![waiter],
                        cancel,
                    },
                );
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
                !(Arc::ptr_eq(&w.client, client) && request.is_none_or(|r| r == w.request))
            });
            if job.waiters.is_empty() {
                job.cancel.store(true, Ordering::SeqCst);
                false
            } else {
                true
            }
        });
    }

    fn worker(self: Arc<Self>, rx: Receiver<Work>) {
        while let Ok(work) = rx.recv() {
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
                    for w in &job.waiters {
                        w.client.send(&ServerMsg::Progress {
                            request: w.request,
                            fraction,
                        });
                    }
                }
                true
            };
            let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                self.engine.run(&work.job, &work.inputs, &mut report)
            }))
            .unwrap_or_else(|panic| {
                let what = panic
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_else(|| "unknown panic".into());
                Err(EngineError::Failed(format!("internal error: {what}")))
            });
            self.jobs_run.fetch_add(1, Ordering::Relaxed);
            let outcome = result.and_then(|pixels| {
                let id = self.next_segment.fetch_add(1, Ordering::Relaxed);
                let seg = Segment::create(id, frame_bytes(work.job.width, work.job.height))
                    .map_err(|e| EngineError::Failed(e.to_string()))?;
                seg.write_frame(0, work.job.width, work.job.height, &pixels, key.0)
                    .map_err(|e| EngineError::Failed(e.to_string()))?;
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
                    self.cache.lock().insert(key, seg.clone());
                    for w in waiters {
                        w.client.send_frame(w.request, &seg, false);
                    }
                }
                Err(EngineError::Cancelled) => {
                    self.jobs_cancelled.fetch_add(1, Ordering::Relaxed);
                    info!("{key} cancelled")
                }
                Err(e) => {
                    warn!("{} {key} failed: {e}", work.job.effect);
                    for w in waiters {
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
        }
    }
}

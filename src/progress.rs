//! Progress of a long conversion on a terminal: one indicatif spinner line naming the running
//! phase (import, seed, saturate, extract, lower, write) and, above it, a line per finished
//! phase with its time.
//!
//! Quiet by design: nothing is drawn for the first second (most conversions are done by then,
//! and a flash of spinner is noise), and nothing at all when stderr is not a terminal (piped
//! output, CI logs, tests), so scripted use and snapshots never see it. A [`Progress`] is
//! cheap to clone and to call when disabled; the library reports phases through
//! [`crate::rewrite::ConvertOptions::progress`] without knowing whether anyone watches.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long a conversion runs before its progress line appears: one second, or
/// `MLREWRITE_PROGRESS_AFTER_MS` milliseconds (for tests, and for users who want it sooner).
pub fn delay_from_env() -> Duration {
    std::env::var("MLREWRITE_PROGRESS_AFTER_MS").ok().and_then(|v| v.trim().parse().ok()).map_or(Duration::from_secs(1), Duration::from_millis)
}

/// The phases of `mlrewrite convert`, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    Import,
    Seed,
    Saturate,
    Extract,
    Lower,
    Write,
}

impl Phase {
    pub fn name(self) -> &'static str {
        match self {
            Phase::Import => "import",
            Phase::Seed => "seed",
            Phase::Saturate => "saturate",
            Phase::Extract => "extract",
            Phase::Lower => "lower",
            Phase::Write => "write",
        }
    }
}

struct State {
    bar: ProgressBar,
    /// The running phase and when it started.
    current: Option<(Phase, Instant)>,
    /// Finished phases and their times, printed when the bar becomes visible.
    done: Vec<(Phase, Duration)>,
    visible: bool,
    finished: bool,
}

/// Reports conversion phases; see the module doc. `Default` is disabled.
#[derive(Clone, Default)]
pub struct Progress {
    state: Option<Arc<Mutex<State>>>,
}

impl std::fmt::Debug for Progress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.state.is_some() { "Progress(enabled)" } else { "Progress(disabled)" })
    }
}

fn done_line(phase: Phase, took: Duration) -> String {
    format!("  {:<9} {:>7.2} s", phase.name(), took.as_secs_f64())
}

impl Progress {
    /// A progress line on stderr after `delay`, when stderr is a terminal; else disabled.
    pub fn on_stderr_terminal(delay: Duration) -> Progress {
        if ProgressDrawTarget::stderr().is_hidden() {
            return Progress::default();
        }
        Progress::after(delay, ProgressDrawTarget::stderr)
    }

    /// A progress line drawn to `target()` once `delay` has passed and the work is not
    /// finished (a watcher thread waits for it).
    pub fn after(delay: Duration, target: fn() -> ProgressDrawTarget) -> Progress {
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::hidden());
        bar.set_style(ProgressStyle::with_template("{spinner} {msg} {elapsed}").expect("a valid template"));
        let state = Arc::new(Mutex::new(State { bar, current: None, done: vec![], visible: false, finished: false }));
        let watched = Arc::downgrade(&state);
        std::thread::spawn(move || {
            std::thread::sleep(delay);
            let Some(state) = watched.upgrade() else { return };
            let mut s = state.lock().unwrap_or_else(|e| e.into_inner());
            if s.finished {
                return;
            }
            s.visible = true;
            s.bar.set_draw_target(target());
            for (phase, took) in &s.done {
                s.bar.println(done_line(*phase, *took));
            }
            s.bar.enable_steady_tick(Duration::from_millis(120));
        });
        Progress { state: Some(state) }
    }

    /// `phase` starts (the previous one, if any, is finished).
    pub fn phase(&self, phase: Phase) {
        let Some(state) = &self.state else { return };
        let mut s = state.lock().unwrap_or_else(|e| e.into_inner());
        s.end_current();
        s.current = Some((phase, Instant::now()));
        s.bar.set_message(format!("{}…", phase.name()));
    }

    /// The work is over: the last phase's line is printed (if the bar is shown) and the
    /// spinner cleared.
    pub fn finish(&self) {
        let Some(state) = &self.state else { return };
        let mut s = state.lock().unwrap_or_else(|e| e.into_inner());
        s.end_current();
        s.finished = true;
        s.bar.finish_and_clear();
    }

    /// Runs `f` (which writes to stderr) with the line cleared, then redraws it.
    pub fn suspend<R>(&self, f: impl FnOnce() -> R) -> R {
        match &self.state {
            Some(state) => {
                let bar = state.lock().unwrap_or_else(|e| e.into_inner()).bar.clone();
                bar.suspend(f)
            }
            None => f(),
        }
    }

    /// The finished phases so far (for tests).
    pub fn finished_phases(&self) -> Vec<Phase> {
        self.state.as_ref().map_or(vec![], |s| s.lock().unwrap_or_else(|e| e.into_inner()).done.iter().map(|(p, _)| *p).collect())
    }
}

impl State {
    fn end_current(&mut self) {
        if let Some((phase, start)) = self.current.take() {
            let took = start.elapsed();
            if self.visible {
                self.bar.println(done_line(phase, took));
            }
            self.done.push((phase, took));
        }
    }
}

impl Drop for State {
    fn drop(&mut self) {
        self.bar.finish_and_clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn disabled_progress_costs_nothing_and_records_nothing() {
        let p = Progress::default();
        p.phase(Phase::Import);
        p.finish();
        assert!(p.finished_phases().is_empty());
        assert_eq!(format!("{p:?}"), "Progress(disabled)");
    }

    #[test]
    fn phases_are_recorded_in_order_and_a_fast_run_never_draws() {
        // A hidden target stands in for the terminal; the delay is never reached.
        let p = Progress::after(Duration::from_secs(60), ProgressDrawTarget::hidden);
        for phase in [Phase::Import, Phase::Seed, Phase::Saturate, Phase::Extract, Phase::Lower, Phase::Write] {
            p.phase(phase);
        }
        p.finish();
        assert_eq!(p.finished_phases(), vec![Phase::Import, Phase::Seed, Phase::Saturate, Phase::Extract, Phase::Lower, Phase::Write]);
        assert!(!p.state.as_ref().unwrap().lock().unwrap().visible);
    }
}

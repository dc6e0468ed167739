//! Starting the job and folding in what it reports.

use super::*;

impl Wizard {
    pub(super) fn start(&mut self) {
        let request = match self.task {
            Task::Export => Request::Export(self.export_plan()),
            Task::Import => Request::Import(self.import_plan()),
        };
        match Job::start(self.server.clone(), request) {
            Ok(job) => {
                self.finished = None;
                self.status = Some(Status {
                    progress: Progress::default(),
                    state: RunState::Running,
                    stopping: false,
                    quit_when_done: false,
                    job: Some(job),
                });
                self.go(Page::Status);
            }
            Err(e) => self.error(format!("could not start the job: {e}")),
        }
    }

    /// Folds in whatever the job reported, without waiting. Returns
    /// [`Effect::Quit`] when a quit was waiting for the job to end.
    pub fn poll(&mut self) -> Effect {
        self.absorb(|job| job.drain())
    }

    /// Like [`Wizard::poll`], but waits up to `timeout` for the job to report.
    pub fn wait(&mut self, timeout: Duration) -> Effect {
        self.absorb(|job| job.wait(timeout))
    }

    pub(super) fn absorb(&mut self, take: impl FnOnce(&mut Job) -> Vec<Message>) -> Effect {
        let Some(status) = self.status.as_mut() else {
            return Effect::None;
        };
        let Some(job) = status.job.as_mut() else {
            return Effect::None;
        };
        let mut done = None;
        for message in take(job) {
            match message {
                Message::Progress(e) => status.progress.event(e),
                Message::Done(result) => done = Some(result),
            }
        }
        match done {
            Some(result) => self.job_done(result),
            None => Effect::None,
        }
    }

    pub(super) fn job_done(&mut self, result: Result<job::Outcome, Failure>) -> Effect {
        let status = self.status.as_mut().expect("a job belongs to a status");
        status.job = None;
        let was_stopping = status.stopping;
        status.stopping = false;
        let quit = status.quit_when_done;
        match result {
            Ok(outcome) => {
                status.progress.complete();
                self.finished = Some(match outcome {
                    job::Outcome::Exported(o) => Finished::Export(o),
                    job::Outcome::Imported(i) => Finished::Import(i),
                });
                self.go(Page::Finish);
                if was_stopping {
                    self.info("Stop came too late: the job had already completed.");
                }
            }
            Err(Failure::Cancelled) => {
                self.status = None;
                self.go(Page::Components);
                self.info(match self.task {
                    Task::Export => EXPORT_STOPPED,
                    Task::Import => IMPORT_STOPPED,
                });
            }
            Err(Failure::Engine(e)) => status.state = RunState::Failed(error_text(&e)),
            Err(Failure::Panicked(message)) => {
                status.state = RunState::Failed(format!("internal error: {message}"));
            }
        }
        if quit {
            Effect::Quit
        } else {
            Effect::None
        }
    }
}

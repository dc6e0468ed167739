//! Keys and page moves.

use super::*;

impl Wizard {
    /// Handles one key press.
    pub fn handle(&mut self, key: KeyEvent) -> Effect {
        if key.kind == KeyEventKind::Release {
            return Effect::None;
        }
        self.notice = None;
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        if ctrl && key.code == KeyCode::Char('c') {
            return self.quit();
        }
        let typing = self.page == Page::Configuration && self.form().focused().is_text();
        if !typing && !ctrl && key.code == KeyCode::Char('q') {
            return self.quit();
        }
        let back = matches!(key.code, KeyCode::Esc | KeyCode::Backspace);
        match self.page {
            Page::Welcome | Page::Confirmation => match key.code {
                KeyCode::Enter => return self.go_next(),
                _ if back => self.go_back(),
                _ => {}
            },
            Page::Task => match key.code {
                KeyCode::Up | KeyCode::Down | KeyCode::Char(' ' | 'j' | 'k') => {
                    self.task = match self.task {
                        Task::Export => Task::Import,
                        Task::Import => Task::Export,
                    }
                }
                KeyCode::Char('e') => self.task = Task::Export,
                KeyCode::Char('i') => self.task = Task::Import,
                KeyCode::Enter => return self.go_next(),
                _ if back => self.go_back(),
                _ => {}
            },
            Page::Components => self.components_key(key),
            Page::Configuration => match key.code {
                KeyCode::Enter => return self.go_next(),
                KeyCode::Esc => self.go_back(),
                KeyCode::Tab | KeyCode::Down => self.form_mut().move_focus(true),
                KeyCode::BackTab | KeyCode::Up => self.form_mut().move_focus(false),
                _ => {
                    self.form_mut().edit(key);
                }
            },
            Page::Status => match key.code {
                KeyCode::Char('s' | 'S') | KeyCode::Esc if self.is_running() => self.stop(),
                KeyCode::Enter if self.is_running() => {
                    self.info("The job is running: press s to stop it.");
                }
                _ if back => self.go_back(),
                _ => {}
            },
            Page::Finish => match key.code {
                KeyCode::Enter => return self.go_next(),
                KeyCode::Up | KeyCode::Char('k') => self.scroll = self.scroll.saturating_sub(1),
                KeyCode::Down | KeyCode::Char('j')
                    if usize::from(self.scroll) + 1 < self.finish_lines() =>
                {
                    self.scroll += 1;
                }
                _ if back => self.go_back(),
                _ => {}
            },
        }
        Effect::None
    }

    pub(super) fn components_key(&mut self, key: KeyEvent) {
        let back = matches!(key.code, KeyCode::Esc | KeyCode::Backspace);
        if key.code == KeyCode::Enter {
            self.go_next();
            return;
        }
        if back {
            self.go_back();
            return;
        }
        let Some(tree) = self.tree_mut() else {
            return;
        };
        let result = match key.code {
            KeyCode::Up | KeyCode::Char('k') => {
                tree.move_cursor(-1);
                return;
            }
            KeyCode::Down | KeyCode::Char('j') => {
                tree.move_cursor(1);
                return;
            }
            KeyCode::PageUp => {
                tree.move_cursor(-10);
                return;
            }
            KeyCode::PageDown => {
                tree.move_cursor(10);
                return;
            }
            KeyCode::Home => {
                tree.jump(false);
                return;
            }
            KeyCode::End => {
                tree.jump(true);
                return;
            }
            KeyCode::Left => {
                tree.set_expanded(false);
                return;
            }
            KeyCode::Right => {
                tree.set_expanded(true);
                return;
            }
            KeyCode::Char(' ') => tree.toggle(),
            KeyCode::Char('a') => {
                tree.toggle_all();
                Ok(Default::default())
            }
            _ => return,
        };
        match result {
            Err(locked) => self.error(format!("Cannot untick: {locked}.")),
            Ok(done) => {
                let mut lines: Vec<String> = done.added.iter().map(|a| a.explain()).collect();
                if !done.also_removed.is_empty() {
                    lines.push(format!(
                        "also unticked {} (they go together)",
                        done.also_removed.join(", ")
                    ));
                }
                for kept in &done.kept {
                    lines.push(format!("kept {} ({})", kept.id, kept.short()));
                }
                if !lines.is_empty() {
                    self.info(lines.join("; "));
                }
            }
        }
    }

    pub(super) fn info(&mut self, text: impl Into<String>) {
        self.notice = Some(Notice {
            kind: NoticeKind::Info,
            text: text.into(),
        });
    }

    pub(super) fn error(&mut self, text: impl Into<String>) {
        self.notice = Some(Notice {
            kind: NoticeKind::Error,
            text: text.into(),
        });
    }

    pub(super) fn go(&mut self, page: Page) {
        self.page = page;
        self.scroll = 0;
        if matches!(page, Page::Welcome | Page::Confirmation) {
            self.service = self.server.service_status().ok();
        }
    }

    pub(super) fn refreshed(mut self) -> Wizard {
        self.go(self.page);
        self
    }

    /// Leaves the wizard, or — while a job runs — stops it and leaves once
    /// the engine has returned (an import rolls back first).
    pub fn quit(&mut self) -> Effect {
        match self.status.as_mut() {
            Some(status) if status.job.is_some() => {
                status.quit_when_done = true;
                self.stop();
                Effect::None
            }
            _ => Effect::Quit,
        }
    }

    /// Stops the running job (Stop on the Status page).
    pub fn stop(&mut self) {
        if let Some(status) = self.status.as_mut() {
            if let Some(job) = &status.job {
                job.cancel();
                status.stopping = true;
            }
        }
    }

    /// Next: validates the page and moves on (starting the job on the
    /// Confirmation page, leaving on the Finish page).
    pub fn go_next(&mut self) -> Effect {
        match self.page {
            Page::Welcome => self.go(Page::Task),
            Page::Task => self.go(self.pages()[2]),
            Page::Components => {
                if self.tree().is_none_or(|t| t.selected().is_empty()) {
                    self.error("Select at least one component.");
                } else {
                    self.advance();
                }
            }
            Page::Configuration => {
                let checked = match self.task {
                    Task::Export => self.check_export_settings(),
                    Task::Import => self.open_import_file(),
                };
                match checked {
                    Ok(()) => self.advance(),
                    Err((field, message)) => {
                        self.form_mut().focus_on(field);
                        self.error(message);
                    }
                }
            }
            Page::Confirmation => self.start(),
            Page::Status => {}
            Page::Finish => return Effect::Quit,
        }
        Effect::None
    }

    pub(super) fn advance(&mut self) {
        let pages = self.pages();
        self.go(pages[self.step()]);
    }

    /// Back: the previous page. On the Status page it stops a running job;
    /// after a failure it returns to the Confirmation page; on the Finish
    /// page it starts over at Task Selection.
    pub fn go_back(&mut self) {
        match self.page {
            Page::Welcome => {}
            Page::Status if self.is_running() => self.stop(),
            Page::Status => {
                self.status = None;
                self.go(Page::Confirmation);
            }
            Page::Finish => {
                self.status = None;
                self.finished = None;
                self.go(Page::Task);
            }
            _ => {
                let pages = self.pages();
                self.go(pages[self.step() - 2]);
            }
        }
    }
}

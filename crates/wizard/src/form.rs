//! The Configuration page's fields: text boxes (optionally masked), check
//! boxes and choices, with one of them focused.

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

/// Which setting a field holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldId {
    /// Export: the folder that receives the migration file.
    Folder,
    /// Export: the custom-handlers folder.
    Handlers,
    /// Export and import: the migration file's password.
    Password,
    /// Export: the password again, to catch a typing mistake.
    PasswordConfirm,
    /// Import: the migration file.
    File,
    /// Import: the folder handlers are extracted to.
    ExtractTo,
    /// Import: "Create registry and file restore point".
    RestorePoint,
    /// Import: Migration or Recovery mode.
    Mode,
}

/// A field's value and how it is edited.
#[derive(Clone, PartialEq, Eq)]
pub enum Value {
    /// Free text; `masked` shows every character as `*`.
    Text {
        /// The text typed so far.
        text: String,
        /// Whether the text is shown as `*`s.
        masked: bool,
        /// Where typing goes, in characters from the start (0 ..= length).
        cursor: usize,
    },
    /// A check box.
    Check(bool),
    /// One of several options.
    Choice {
        /// The option labels.
        options: Vec<&'static str>,
        /// The chosen option's index.
        chosen: usize,
    },
}

/// Masked text (a password) never shows in `Debug`, so a logged or
/// panicking form cannot leak it.
impl std::fmt::Debug for Value {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Value::Text {
                text,
                masked,
                cursor,
            } => {
                let shown: &dyn std::fmt::Debug = if *masked { &"[redacted]" } else { text };
                f.debug_struct("Text")
                    .field("text", shown)
                    .field("masked", masked)
                    .field("cursor", cursor)
                    .finish()
            }
            Value::Check(on) => f.debug_tuple("Check").field(on).finish(),
            Value::Choice { options, chosen } => f
                .debug_struct("Choice")
                .field("options", options)
                .field("chosen", chosen)
                .finish(),
        }
    }
}

/// One labelled field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    /// What it holds.
    pub id: FieldId,
    /// The question shown above or beside it.
    pub label: &'static str,
    /// A hint shown under it.
    pub hint: String,
    /// Its value.
    pub value: Value,
}

impl Field {
    /// A text field.
    pub fn text(id: FieldId, label: &'static str, text: &str, hint: impl Into<String>) -> Field {
        Field {
            id,
            label,
            hint: hint.into(),
            value: Value::Text {
                text: text.to_string(),
                masked: false,
                cursor: text.chars().count(),
            },
        }
    }

    /// A masked text field (a password).
    pub fn secret(id: FieldId, label: &'static str, hint: impl Into<String>) -> Field {
        Field {
            id,
            label,
            hint: hint.into(),
            value: Value::Text {
                text: String::new(),
                masked: true,
                cursor: 0,
            },
        }
    }

    /// A check box.
    pub fn check(id: FieldId, label: &'static str, on: bool, hint: impl Into<String>) -> Field {
        Field {
            id,
            label,
            hint: hint.into(),
            value: Value::Check(on),
        }
    }

    /// A choice among `options`, the first chosen.
    pub fn choice(
        id: FieldId,
        label: &'static str,
        options: Vec<&'static str>,
        hint: impl Into<String>,
    ) -> Field {
        Field {
            id,
            label,
            hint: hint.into(),
            value: Value::Choice { options, chosen: 0 },
        }
    }

    /// The cursor of a text field, in characters.
    pub fn cursor(&self) -> Option<usize> {
        match &self.value {
            Value::Text { cursor, .. } => Some(*cursor),
            _ => None,
        }
    }

    /// True for text fields (which take every printable key).
    pub fn is_text(&self) -> bool {
        matches!(self.value, Value::Text { .. })
    }

    /// The value as shown: masked text as `*`s, a check box as `[x]`/`[ ]`,
    /// a choice as its options with the chosen one in parentheses.
    pub fn display(&self) -> String {
        match &self.value {
            Value::Text {
                text, masked: true, ..
            } => "*".repeat(text.chars().count()),
            Value::Text { text, .. } => text.clone(),
            Value::Check(on) => if *on { "[x]" } else { "[ ]" }.to_string(),
            Value::Choice { options, chosen } => options
                .iter()
                .enumerate()
                .map(|(i, o)| {
                    if i == *chosen {
                        format!("(•) {o}")
                    } else {
                        format!("( ) {o}")
                    }
                })
                .collect::<Vec<_>>()
                .join("   "),
        }
    }

    /// Applies an editing key; returns false when the key is not an edit
    /// for this field (so the page can treat it as navigation).
    pub fn edit(&mut self, key: KeyEvent) -> bool {
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        let alt = key.modifiers.contains(KeyModifiers::ALT);
        if let Value::Text { text, cursor, .. } = &mut self.value {
            return edit_text(text, cursor, key.code, ctrl, alt);
        }
        match (&mut self.value, key.code) {
            (Value::Check(on), KeyCode::Char(' ')) => {
                *on = !*on;
                true
            }
            (Value::Choice { options, chosen }, KeyCode::Char(' ') | KeyCode::Right) => {
                *chosen = (*chosen + 1) % options.len();
                true
            }
            (Value::Choice { options, chosen }, KeyCode::Left) => {
                *chosen = (*chosen + options.len() - 1) % options.len();
                true
            }
            _ => false,
        }
    }
}

/// Applies one editing key to a text and its cursor (a character index);
/// returns false for keys that are not edits.
fn edit_text(text: &mut String, cursor: &mut usize, code: KeyCode, ctrl: bool, alt: bool) -> bool {
    let len = text.chars().count();
    *cursor = (*cursor).min(len);
    let byte = |text: &str, at: usize| text.char_indices().nth(at).map_or(text.len(), |(b, _)| b);
    match code {
        KeyCode::Char('u') if ctrl => {
            text.clear();
            *cursor = 0;
        }
        KeyCode::Char('a') if ctrl => *cursor = 0,
        KeyCode::Char('e') if ctrl => *cursor = len,
        KeyCode::Char(c) if !ctrl && !alt => {
            text.insert(byte(text, *cursor), c);
            *cursor += 1;
        }
        KeyCode::Backspace if *cursor > 0 => {
            text.remove(byte(text, *cursor - 1));
            *cursor -= 1;
        }
        KeyCode::Delete if *cursor < len => {
            text.remove(byte(text, *cursor));
        }
        KeyCode::Backspace | KeyCode::Delete => {}
        KeyCode::Left => *cursor = cursor.saturating_sub(1),
        KeyCode::Right => *cursor = (*cursor + 1).min(len),
        KeyCode::Home => *cursor = 0,
        KeyCode::End => *cursor = len,
        _ => return false,
    }
    true
}

/// A list of fields with one focused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Form {
    /// The fields, in display order.
    pub fields: Vec<Field>,
    /// The index of the focused field.
    pub focus: usize,
}

impl Form {
    /// A form focused on its first field.
    pub fn new(fields: Vec<Field>) -> Form {
        Form { fields, focus: 0 }
    }

    /// The focused field.
    pub fn focused(&self) -> &Field {
        &self.fields[self.focus]
    }

    /// Moves the focus forward (`true`) or back, wrapping around.
    pub fn move_focus(&mut self, forward: bool) {
        let n = self.fields.len();
        self.focus = if forward {
            (self.focus + 1) % n
        } else {
            (self.focus + n - 1) % n
        };
    }

    /// Focuses the field `id`.
    pub fn focus_on(&mut self, id: FieldId) {
        if let Some(i) = self.fields.iter().position(|f| f.id == id) {
            self.focus = i;
        }
    }

    /// Passes an editing key to the focused field.
    pub fn edit(&mut self, key: KeyEvent) -> bool {
        self.fields[self.focus].edit(key)
    }

    fn field(&self, id: FieldId) -> &Field {
        self.fields
            .iter()
            .find(|f| f.id == id)
            .unwrap_or_else(|| panic!("form has no {id:?} field"))
    }

    /// The text of a text field, trimmed.
    pub fn text(&self, id: FieldId) -> String {
        match &self.field(id).value {
            Value::Text { text, .. } => text.trim().to_string(),
            other => panic!("{id:?} is not a text field: {other:?}"),
        }
    }

    /// The text of a text field exactly as typed (passwords keep spaces).
    pub fn raw_text(&self, id: FieldId) -> String {
        match &self.field(id).value {
            Value::Text { text, .. } => text.clone(),
            other => panic!("{id:?} is not a text field: {other:?}"),
        }
    }

    /// The state of a check box.
    pub fn checked(&self, id: FieldId) -> bool {
        matches!(self.field(id).value, Value::Check(true))
    }

    /// The chosen option of a choice.
    pub fn chosen(&self, id: FieldId) -> &'static str {
        match &self.field(id).value {
            Value::Choice { options, chosen } => options[*chosen],
            other => panic!("{id:?} is not a choice: {other:?}"),
        }
    }

    /// Sets a text field's text (for tests and defaults).
    pub fn set_text(&mut self, id: FieldId, value: &str) {
        if let Some(Field {
            value: Value::Text { text, cursor, .. },
            ..
        }) = self.fields.iter_mut().find(|f| f.id == id)
        {
            *text = value.to_string();
            *cursor = text.chars().count();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(code: KeyCode) -> KeyEvent {
        KeyEvent::new(code, KeyModifiers::NONE)
    }

    #[test]
    fn text_fields_take_typing_and_passwords_are_masked() {
        let mut form = Form::new(vec![
            Field::text(FieldId::Folder, "Folder", "", ""),
            Field::secret(FieldId::Password, "Password", ""),
        ]);
        for c in "/tmp/q".chars() {
            assert!(form.edit(key(KeyCode::Char(c))));
        }
        form.edit(key(KeyCode::Backspace));
        assert_eq!(form.text(FieldId::Folder), "/tmp/");
        form.move_focus(true);
        for c in "s3 cret".chars() {
            form.edit(key(KeyCode::Char(c)));
        }
        assert_eq!(form.focused().display(), "*******");
        assert_eq!(form.raw_text(FieldId::Password), "s3 cret");
        form.edit(KeyEvent::new(KeyCode::Char('u'), KeyModifiers::CONTROL));
        assert_eq!(form.raw_text(FieldId::Password), "");
    }

    #[test]
    fn debug_output_never_shows_a_password() {
        let mut form = Form::new(vec![
            Field::text(FieldId::Folder, "Folder", "/srv/visible", ""),
            Field::secret(FieldId::Password, "Password", ""),
        ]);
        form.move_focus(true);
        for c in "hunter2-secret".chars() {
            form.edit(key(KeyCode::Char(c)));
        }
        let debug = format!("{form:?} {:#?}", form.focused());
        assert!(!debug.contains("hunter2"), "{debug}");
        assert!(debug.contains("[redacted]") && debug.contains("/srv/visible"));
    }

    #[test]
    fn the_cursor_moves_and_edits_mid_text() {
        let mut form = Form::new(vec![Field::text(
            FieldId::Folder,
            "Folder",
            "/srv/exprts",
            "",
        )]);
        for code in [KeyCode::Left, KeyCode::Left, KeyCode::Left] {
            assert!(form.edit(key(code)));
        }
        form.edit(key(KeyCode::Char('o')));
        assert_eq!(form.text(FieldId::Folder), "/srv/exports");
        form.edit(key(KeyCode::Home));
        form.edit(key(KeyCode::Delete));
        form.edit(key(KeyCode::Char('~')));
        assert_eq!(form.text(FieldId::Folder), "~srv/exports");
        form.edit(key(KeyCode::Backspace));
        form.edit(key(KeyCode::Backspace));
        assert_eq!(form.text(FieldId::Folder), "srv/exports");
        form.edit(key(KeyCode::End));
        form.edit(key(KeyCode::Char('/')));
        form.edit(key(KeyCode::Right));
        form.edit(key(KeyCode::Char('é')));
        assert_eq!(form.text(FieldId::Folder), "srv/exports/é");
        form.edit(key(KeyCode::Left));
        form.edit(key(KeyCode::Delete));
        assert_eq!(form.text(FieldId::Folder), "srv/exports/");
        assert_eq!(form.focused().cursor(), Some(12));
    }

    #[test]
    fn checks_and_choices_toggle_with_space() {
        let mut form = Form::new(vec![
            Field::check(FieldId::RestorePoint, "Restore point", true, ""),
            Field::choice(FieldId::Mode, "Mode", vec!["Migration", "Recovery"], ""),
        ]);
        form.edit(key(KeyCode::Char(' ')));
        assert!(!form.checked(FieldId::RestorePoint));
        assert!(!form.edit(key(KeyCode::Char('x'))));
        form.move_focus(false);
        assert_eq!(form.focused().id, FieldId::Mode);
        form.edit(key(KeyCode::Char(' ')));
        assert_eq!(form.chosen(FieldId::Mode), "Recovery");
        form.edit(key(KeyCode::Left));
        assert_eq!(form.chosen(FieldId::Mode), "Migration");
    }
}

//! The Configuration page's checks and the plans the settings describe.

use super::*;

impl Wizard {
    pub(super) fn check_export_settings(&mut self) -> Result<(), (FieldId, String)> {
        let form = &self.export_form;
        let folder = form.text(FieldId::Folder);
        if folder.is_empty() {
            return Err((
                FieldId::Folder,
                "Type the folder that receives the migration file.".into(),
            ));
        }
        transit_core::paths::check_outside_root(
            &typed_path(&folder),
            self.server.dir(),
            "export folder",
        )
        .map_err(|e| (FieldId::Folder, error_text(&MigratorError::from(e))))?;
        if let Some(dir) = self.handlers_folder() {
            if !dir.is_dir() {
                let e = MigratorError::HandlersFolder(dir);
                return Err((FieldId::Handlers, e.to_string()));
            }
        }
        if form.raw_text(FieldId::Password) != form.raw_text(FieldId::PasswordConfirm) {
            return Err((
                FieldId::PasswordConfirm,
                "The two passwords differ: type the same password in both fields.".into(),
            ));
        }
        Ok(())
    }

    /// Opens the chosen migration file with the password, checks it against
    /// this server (role, releases, mode) and builds the import tree from
    /// its components (kept as it was if the same file is opened again).
    pub(super) fn open_import_file(&mut self) -> Result<(), (FieldId, String)> {
        let form = &self.import_form;
        let file = form.text(FieldId::File);
        if file.is_empty() {
            return Err((FieldId::File, "Type the path of the migration file.".into()));
        }
        let extract = form.text(FieldId::ExtractTo);
        if extract.is_empty() {
            return Err((
                FieldId::ExtractTo,
                "Type the folder to extract imported files to.".into(),
            ));
        }
        preflight::check_extraction_folder(&typed_path(&extract), self.server.dir())
            .map_err(|e| (FieldId::ExtractTo, error_text(&e)))?;
        let path = typed_path(&file);
        let password = form.raw_text(FieldId::Password);
        let password = (!password.is_empty()).then_some(password);
        let reader = MigrationReader::open(&path, password.as_deref()).map_err(|e| {
            let field = match e {
                transit_archive::ArchiveError::WrongPassword { .. }
                | transit_archive::ArchiveError::PasswordRequired { .. }
                | transit_archive::ArchiveError::PasswordNotNeeded { .. } => FieldId::Password,
                _ => FieldId::File,
            };
            (field, error_text(&e))
        })?;
        let manifest = reader.manifest().clone();
        preflight::check_versions(&manifest, self.server.identity(), self.import_mode())
            .map_err(|e| (FieldId::Mode, e.to_string()))?;
        let same = self
            .opened
            .as_ref()
            .is_some_and(|o| o.path == path && o.manifest == manifest);
        if !same || self.import_tree.is_none() {
            let ids: Vec<String> = manifest.components.iter().map(|c| c.id.clone()).collect();
            let tree = ComponentTree::limited_to(self.catalog, &ids);
            if tree.offered().next().is_none() {
                return Err((
                    FieldId::File,
                    format!(
                        "{} holds no component this {} server knows",
                        path.display(),
                        self.server.identity().server.role
                    ),
                ));
            }
            self.import_tree = Some(tree);
        }
        self.opened = Some(OpenedFile {
            path,
            manifest,
            encrypted: reader.encrypted(),
            size: reader.file_size(),
        });
        Ok(())
    }

    // ---- Plans and the job. ----

    /// The custom-handlers folder typed on the Configuration page; `None`
    /// when it is empty or the server's own `files/Handlers/Custom` (the
    /// engine's default, which may be missing on a server without
    /// customizations).
    pub(super) fn handlers_folder(&self) -> Option<PathBuf> {
        let text = self.export_form.text(FieldId::Handlers);
        let default = self.server.files_dir().join(CUSTOM_HANDLERS);
        let dir = typed_path(&text);
        (!text.is_empty() && dir != default).then_some(dir)
    }

    /// The export plan the current settings describe.
    pub fn export_plan(&self) -> ExportPlan {
        let form = &self.export_form;
        let password = form.raw_text(FieldId::Password);
        ExportPlan {
            components: self.export_tree.selected(),
            folder: typed_path(&form.text(FieldId::Folder)),
            handlers: self.handlers_folder(),
            password: (!password.is_empty()).then(|| secrecy::SecretString::from(password)),
            threads: None,
            dialer_package: true,
        }
    }

    /// The import plan the current settings describe (components from the
    /// import tree, all of the file's if no file was opened yet).
    pub fn import_plan(&self) -> ImportPlan {
        let form = &self.import_form;
        let password = form.raw_text(FieldId::Password);
        ImportPlan {
            file: typed_path(&form.text(FieldId::File)),
            password: (!password.is_empty()).then(|| secrecy::SecretString::from(password)),
            extract_to: typed_path(&form.text(FieldId::ExtractTo)),
            mode: self.import_mode(),
            components: self
                .import_tree
                .as_ref()
                .map_or_else(|| vec!["all".to_string()], |t| t.selected()),
            restore_point: form.checked(FieldId::RestorePoint),
            dev_mode: false,
            dry_run: false,
            force: false,
        }
    }
}

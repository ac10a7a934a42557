//! The models the service proves: each subdirectory of `--models` that `zkinfer compile` and
//! `zkinfer setup` filled (model.zkm, pk.bin, vk.bin, srs.bin) is a model, named by the
//! directory. Graphs load when first named; proving keys when first proved, then stay.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use serde::Serialize;
use zkinfer_ir::artifact::{hash_hex, read_model};
use zkinfer_ir::QGraph;
use zkinfer_pipeline::{ModelDir, Observer, PipelineError, ProvingModel};

/// A model as `GET /models` lists it.
#[derive(Debug, Clone, Serialize)]
pub struct ModelInfo {
    /// Its id (the directory name).
    pub id: String,
    /// The compiled model's hash, as its proofs name it.
    pub model_hash: String,
    /// The graph inputs, in the order an input file lists them.
    pub inputs: Vec<InputInfo>,
    /// Values in one sample (all inputs together).
    pub input_len: usize,
    /// What proofs show of the input and the output.
    pub visibility: Visibility,
}

/// One graph input.
#[derive(Debug, Clone, Serialize)]
pub struct InputInfo {
    /// Its name in the ONNX graph.
    pub name: String,
    /// Its shape.
    pub shape: Vec<usize>,
}

/// What a model's proofs show.
#[derive(Debug, Clone, Serialize)]
pub struct Visibility {
    /// Of the input: public, private, hashed (or per input: `x=hashed,mask=public`).
    pub input: String,
    /// Of the output: public, private or hashed.
    pub output: String,
}

struct Entry {
    graph: Arc<QGraph>,
    info: ModelInfo,
    proving: Option<Arc<ProvingModel>>,
}

/// The registry of models under one directory.
pub struct Models {
    root: PathBuf,
    entries: Mutex<HashMap<String, Entry>>,
    /// Held while a proving key loads, so workers starting together read it once.
    loading: Mutex<()>,
}

impl std::fmt::Debug for Models {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Models").field("root", &self.root).finish()
    }
}

/// Whether `id` can name a model directory (no path separators, no dot files).
pub fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 128
        && !id.starts_with('.')
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
}

impl Models {
    /// The registry of `root`'s subdirectories.
    pub fn new(root: &Path) -> Self {
        Models {
            root: root.to_path_buf(),
            entries: Mutex::new(HashMap::new()),
            loading: Mutex::new(()),
        }
    }

    /// The directory of model `id`.
    pub fn dir(&self, id: &str) -> PathBuf {
        self.root.join(id)
    }

    /// The ids of every set-up model under the root, sorted.
    pub fn ids(&self) -> Vec<String> {
        let mut ids: Vec<String> = std::fs::read_dir(&self.root)
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|e| e.file_name().into_string().ok())
            .filter(|id| valid_id(id) && self.is_set_up(id))
            .collect();
        ids.sort();
        ids
    }

    fn is_set_up(&self, id: &str) -> bool {
        let d = ModelDir::new(&self.dir(id));
        [d.model(), d.pk(), d.vk(), d.srs()]
            .iter()
            .all(|p| p.is_file())
    }

    /// Model `id`'s graph and description; `None` when there is no such set-up model.
    pub fn graph(&self, id: &str) -> Result<Option<(Arc<QGraph>, ModelInfo)>, PipelineError> {
        if !valid_id(id) || !self.is_set_up(id) {
            return Ok(None);
        }
        if let Some(e) = self
            .entries
            .lock()
            .ok()
            .and_then(|m| m.get(id).map(|e| (e.graph.clone(), e.info.clone())))
        {
            return Ok(Some(e));
        }
        let (graph, hash) = read_model(&ModelDir::new(&self.dir(id)).model())?;
        let info = ModelInfo {
            id: id.to_string(),
            model_hash: hash_hex(&hash),
            inputs: graph
                .inputs()
                .iter()
                .map(|p| InputInfo {
                    name: p.name.clone(),
                    shape: p.shape.clone(),
                })
                .collect(),
            input_len: graph.input.numel(),
            visibility: Visibility {
                input: graph.input_visibility_text(),
                output: graph.output_visibility.to_string(),
            },
        };
        let graph = Arc::new(graph);
        if let Ok(mut m) = self.entries.lock() {
            m.entry(id.to_string()).or_insert(Entry {
                graph: graph.clone(),
                info: info.clone(),
                proving: None,
            });
        }
        Ok(Some((graph, info)))
    }

    /// Model `id` loaded for proving: its key is read once, then shared by every worker.
    pub fn proving(
        &self,
        id: &str,
        obs: &dyn Observer,
    ) -> Result<Arc<ProvingModel>, PipelineError> {
        let cached = || {
            self.entries
                .lock()
                .ok()
                .and_then(|m| m.get(id).and_then(|e| e.proving.clone()))
        };
        if let Some(p) = cached() {
            return Ok(p);
        }
        let _loading = self.loading.lock();
        if let Some(p) = cached() {
            return Ok(p);
        }
        // The registry entry first (it may not exist after a restart), then the key.
        self.graph(id)?;
        let loaded = Arc::new(ProvingModel::load(&self.dir(id), obs)?);
        if let Ok(mut m) = self.entries.lock() {
            if let Some(e) = m.get_mut(id) {
                e.proving = Some(loaded.clone());
            }
        }
        Ok(loaded)
    }
}

//! The `zkinfer` command line.

/// `println!` for the commands: a closed stdout (`zkinfer plan | head -1`) becomes an error
/// that ends the command quietly, not a panic.
macro_rules! outln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        writeln!(std::io::stdout(), $($arg)*)?
    }};
}

mod cmd;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use zkinfer::compiler::QuantizeConfig;
use zkinfer::runtime::DeviceChoice;

/// Verifiable inference: prove that an output is exactly what a model computes on an input.
///
/// Typical flow:
///   zkinfer compile model.onnx --calibration input.json --out build/
///   zkinfer setup build/ --insecure-test-srs
///   zkinfer prove build/ --input input.json --out proof.json
///   zkinfer verify build/vk.bin proof.json
#[derive(Debug, Parser)]
#[command(name = "zkinfer", version, verbatim_doc_comment)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Import an ONNX model, quantize it and lay out its circuit.
    ///
    /// Writes DIR/model.zkm (the compiled model) and DIR/report.json (scales, bounds,
    /// per-node error against the float model on the calibration data, circuit plan).
    Compile {
        /// The ONNX model file.
        model: PathBuf,
        /// Calibration inputs in EZKL's format, {"input_data": [[...], ...]}: one list per
        /// sample, or, for a model with several inputs, one list per graph input (in graph
        /// order) for each sample.
        #[arg(long)]
        calibration: PathBuf,
        /// Output directory (created if missing).
        #[arg(long)]
        out: PathBuf,
        /// Fixed-point scale of activations, in bits (value = q / 2^scale). Default: 13,
        /// raised one bit at a time (up to 18) while no table choice meets --max-error;
        /// given, it is kept.
        #[arg(long)]
        scale: Option<u32>,
        /// Fixed-point scale of weights, in bits.
        #[arg(long, default_value_t = QuantizeConfig::DEFAULT.weight_scale)]
        weight_scale: u32,
        /// Extra bits of input range above the calibrated maximum (also widens the domains
        /// of lookup tables around their calibrated ranges).
        #[arg(long, default_value_t = QuantizeConfig::DEFAULT.headroom_bits)]
        headroom_bits: u32,
        /// Margin, in bits, of a calibrated bound above the largest value calibration saw.
        /// Where a tensor's worst-case bound is far above what calibration sees (deep
        /// models: it compounds block after block), the compiler gives it a calibrated
        /// bound, range-checked in the circuit, and later bounds start from it; a value past
        /// it at prove time is an error naming the node. The default, 2 (4x), covers an
        /// input at the input headroom's 2x carried through one square. `compile` lists
        /// the calibrated bounds it placed.
        #[arg(long, default_value_t = QuantizeConfig::DEFAULT.bound_headroom_bits, value_parser = clap::value_parser!(u32).range(0..=16))]
        bound_headroom_bits: u32,
        /// Error budget: the largest max-abs error of the output against the float model on
        /// the calibration rows. The compiler picks the cheapest circuit that meets it.
        /// Default: 1.5e-4 times the largest |output| on the calibration rows (at least 1.5e-4).
        #[arg(long)]
        max_error: Option<f64>,
        /// Scale (bits) of lookup-table arguments. Default: searched, cheapest that meets
        /// --max-error.
        #[arg(long)]
        table_scale: Option<u32>,
        /// At most this many weight columns per linear row, lanes times outputs (default: the
        /// fastest layout). Fewer mean fewer columns: a cheaper on-chain verifier (less gas, a
        /// smaller key contract) for a longer proof. `export-verifier` prints the resulting cost.
        #[arg(long, value_parser = clap::value_parser!(u32).range(1..=256))]
        max_lanes: Option<u32>,
        /// What proofs reveal of the input: public (its values are public instances),
        /// private (nothing: only the prover sees it; the circuit still bounds it), or hashed
        /// (a salted Poseidon commitment is the one public value; see `zkinfer hash`).
        /// Several inputs may each have their own: `--input-visibility x=hashed,mask=public`
        /// (inputs not named stay public).
        #[arg(long, default_value = "public")]
        input_visibility: zkinfer::pipeline::InputVisibility,
        /// What proofs reveal of the output: public, private (the proof shows only that the
        /// model ran on some input in range), or hashed (a Poseidon commitment with the same
        /// salt as a hashed input; `verify --expect-output-hash` checks it).
        #[arg(long, default_value = "public")]
        output_visibility: zkinfer::ir::Visibility,
        /// Where the weights and constants live: fixed (in the verifying key), private
        /// (advice the prover supplies: one key for every weight set of the same widths),
        /// hashed (private plus a Poseidon commitment to them, the same in every proof; see
        /// `zkinfer hash DIR`), or committed (fixed columns left out of the key: each proof
        /// carries the KZG commitments of the weight columns and their Keccak digest names
        /// the weight set; one key for every weight set of the same widths, proving as fast
        /// as fixed; the weights are range-checked at compile time, not in the circuit).
        #[arg(long, default_value = "fixed")]
        param_visibility: zkinfer::ir::ParamVisibility,
        /// Split the model into this many chunks, proved as separate circuits linked by
        /// salted commitments to their boundaries (DIR/chunk-i and DIR/chunks.json). Cuts go
        /// where exactly one computed tensor is live (between blocks), balancing rows.
        #[arg(long, conflicts_with = "max_k", value_parser = clap::value_parser!(u32).range(2..=4096))]
        chunks: Option<u32>,
        /// Split the model into as few chunks as keep every chunk's circuit at or under 2^K
        /// rows (see --chunks).
        #[arg(long, value_parser = clap::value_parser!(u32).range(4..=26))]
        max_k: Option<u32>,
    },
    /// Print the circuit plan of a compiled model: k, columns, rows per node, cost.
    Plan {
        /// Directory written by `compile`.
        dir: PathBuf,
    },
    /// Generate the proving and verifying keys (DIR/pk.bin, DIR/vk.bin); prints the key digest.
    Setup {
        /// Directory written by `compile`.
        dir: PathBuf,
        /// Generate a fresh test SRS (DIR/srs.bin). INSECURE: whoever ran it could forge proofs.
        #[arg(long, conflicts_with = "srs")]
        insecure_test_srs: bool,
        /// Use an existing SRS file (from `zkinfer srs import` or `zkinfer srs gen`) instead.
        #[arg(long)]
        srs: Option<PathBuf>,
    },
    /// Run the model on an input and prove the output (writes a proof JSON).
    Prove {
        /// Directory with model.zkm, pk.bin and srs.bin.
        dir: PathBuf,
        /// Input in EZKL's format.
        #[arg(long)]
        input: PathBuf,
        /// Which sample of the input file to prove (a sample is one list, or one list per
        /// graph input for a model with several).
        #[arg(long, default_value_t = 0)]
        row: usize,
        /// Where to write the proof JSON.
        #[arg(long)]
        out: PathBuf,
        /// Where the model runs before proving: auto (CUDA if this build has it and a GPU is
        /// present, else the CPU), cpu, or cuda (an error if unavailable). Every device gives
        /// the same integers; the trace is checked against the reference either way.
        #[arg(long, default_value = "auto")]
        device: DeviceChoice,
        /// For a hashed input: the secret salt of its commitment, a file holding one field
        /// element as 0x-prefixed 32-byte hex. Default: a fresh random salt, written to
        /// OUT.salt (keep it secret; without a salt a low-entropy input can be guessed
        /// from its hash).
        #[arg(long)]
        salt: Option<PathBuf>,
        /// For a chunked model (compile --chunks): prove this many chunks at a time (each
        /// holds its own proving key in memory; `plan DIR` shows each chunk's memory).
        #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=256))]
        jobs: u32,
    },
    /// Verify a proof offline. Exits 0 and prints "verified" and the key digest on success.
    ///
    /// With --evm, deploys the Solidity verifier (the same code `export-verifier` writes) in
    /// an embedded EVM, sends it the proof's calldata and prints the gas used.
    ///
    /// The key digest is the verifying key's cryptographic identity (it commits to the
    /// weights, the tables and the constraints). With --model, the key is first rebuilt from
    /// the compiled model and its SRS, and the proof is accepted only if the digests match.
    Verify {
        /// The verifying key (DIR/vk.bin).
        vk: PathBuf,
        /// The proof JSON.
        proof: PathBuf,
        /// Check the proof with the on-chain verifier in an embedded EVM instead.
        #[arg(long)]
        evm: bool,
        /// The compiled model the key must belong to: the directory written by `compile`
        /// (model.zkm, and srs.bin from `setup`). An ONNX file is not enough: compiling
        /// depends on calibration data the artifacts do not record.
        #[arg(long, value_name = "DIR")]
        model: Option<PathBuf>,
        /// The SRS the key was set up with (default: srs.bin in the --model directory).
        #[arg(long, requires = "model")]
        srs: Option<PathBuf>,
        /// The ONNX file the model was compiled from: its SHA-256 must be the one the
        /// compiled model records.
        #[arg(long, requires = "model")]
        onnx: Option<PathBuf>,
        /// For a hashed input: the commitment the proof must expose (0x-prefixed hex, as
        /// `zkinfer hash` prints it); `name=HASH` for one of several graph inputs.
        #[arg(long, value_name = "HASH")]
        expect_input_hash: Option<String>,
        /// For a hashed output: the commitment the proof must expose (0x-prefixed hex, as
        /// `prove` prints it).
        #[arg(long, value_name = "HASH")]
        expect_output_hash: Option<String>,
        /// For hashed parameters: the model's commitment the proof must expose (as
        /// `zkinfer hash DIR` prints it). For committed parameters: the weight set's digest
        /// (as `setup` and `zkinfer hash DIR` print it); without it the proof only shows
        /// that some values in the key's weight columns give the output.
        #[arg(long, value_name = "HASH")]
        expect_param_hash: Option<String>,
    },
    /// Write the Solidity verifier of a model (for on-chain verification).
    ///
    /// The file holds the generic verifier contract `ZkinferVerifier` and the contract to
    /// deploy, `ModelVerifier`, which creates it with this model's key data. Send it the bytes
    /// from `encode-calldata`: it returns 1 for a valid proof and reverts otherwise. Its
    /// `vkDigest()` returns the key digest, which this command prints.
    ExportVerifier {
        /// Directory with vk.bin (or the vk.bin file itself).
        dir: PathBuf,
        /// Where to write the Solidity file.
        #[arg(long, default_value = "Verifier.sol")]
        out: PathBuf,
        /// With committed parameters: a proof of the weight set the contract is for (the
        /// contract pins its weight points, whose digest is the proof's param_hash).
        #[arg(long)]
        weights_from: Option<PathBuf>,
    },
    /// Run inference only and print the output (no proof).
    Run {
        /// Directory with model.zkm.
        dir: PathBuf,
        /// Input in EZKL's format.
        #[arg(long)]
        input: PathBuf,
        /// Which sample of the input file to run.
        #[arg(long, default_value_t = 0)]
        row: usize,
        /// Where the model runs: auto (CUDA if this build has it and a GPU is
        /// present, else the CPU), cpu, or cuda (an error if unavailable). Every device gives
        /// the same integers; the trace is checked against the reference either way.
        #[arg(long, default_value = "auto")]
        device: DeviceChoice,
    },
    /// Print the commitment a proof will expose: with --input, that of an input (for a
    /// hashed-input model), so a data owner can publish it before any proof exists (check it
    /// with `verify --expect-input-hash`); without, that of the model's weights and
    /// constants (for hashed parameters; `verify --expect-param-hash`), or, for committed
    /// parameters, the digest of the weight points (read from the keys `setup` wrote).
    ///
    /// An input's commitment is the model's packing of the quantized input (see the README's
    /// visibility section) chained through circom's Poseidon(2) from the salt; the weights'
    /// chains each tensor in turn from 0.
    Hash {
        /// Directory written by `compile` (model.zkm).
        dir: PathBuf,
        /// Input in EZKL's format (without it: the weights' commitment).
        #[arg(long)]
        input: Option<PathBuf>,
        /// Which sample of the input file.
        #[arg(long, default_value_t = 0, requires = "input")]
        row: usize,
        /// The salt file `prove` will use (default: no salt, 0; guessable inputs need one).
        #[arg(long, requires = "input")]
        salt: Option<PathBuf>,
    },
    /// Measure setup, prove and verify time, peak memory and proof size.
    Bench {
        /// Directory written by `compile`.
        dir: PathBuf,
        /// Input in EZKL's format.
        #[arg(long)]
        input: PathBuf,
        /// Repetitions of prove and verify (the median is reported).
        #[arg(long, default_value_t = 3)]
        runs: usize,
    },
    /// Write the EVM calldata for a proof: the public instances (32-byte words), then the proof.
    EncodeCalldata {
        /// The proof JSON.
        proof: PathBuf,
        /// Output file.
        #[arg(long)]
        out: PathBuf,
        /// Write hex text (0x-prefixed) instead of raw bytes.
        #[arg(long)]
        hex: bool,
    },
    /// Structured reference strings.
    Srs {
        #[command(subcommand)]
        command: SrsCommand,
    },
    /// Run the proving service: an HTTP API to submit prove jobs, poll them, fetch proofs
    /// and verify them.
    ///
    /// Each subdirectory of --models that `compile` and `setup` filled is a model, named by
    /// the directory. Jobs persist in DATA/jobs.sqlite3 and proofs in DATA/proofs (one
    /// server per DATA): a restart (even after kill -9) resumes the queued jobs and requeues
    /// interrupted ones. SIGTERM stops accepting requests and lets running jobs finish (a
    /// second SIGTERM stops at once). GET /openapi.json describes the API.
    ///
    ///   zkinfer serve --models models/ --addr 127.0.0.1:8080
    ///   curl -X POST localhost:8080/jobs -H 'content-type: application/json' \
    ///     -d '{"model": "mlp", "input": {"input_data": [[0.1, 0.2]]}}'
    ///   curl localhost:8080/jobs/ID?wait=30  # status, progress; answers once done (or at 30 s)
    ///   curl localhost:8080/jobs/ID/proof    # {"proof": ..., "output": ...}
    ///   curl -X POST localhost:8080/verify -H 'content-type: application/json' \
    ///     -d '{"model": "mlp", "proof": PROOF}'
    #[command(verbatim_doc_comment)]
    Serve {
        /// Directory of model directories (each with model.zkm, pk.bin, vk.bin, srs.bin).
        #[arg(long)]
        models: PathBuf,
        /// Address to listen on (port 0: any free port, printed at start).
        #[arg(long, default_value = "127.0.0.1:8080")]
        addr: std::net::SocketAddr,
        /// Prover threads (each proof also uses every core while it runs).
        #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=64))]
        workers: u32,
        /// Queued plus running jobs allowed; further submissions get 429 until some finish.
        #[arg(long, default_value_t = 64, value_parser = clap::value_parser!(u32).range(1..))]
        queue_limit: u32,
        /// Largest request body in bytes.
        #[arg(long, default_value_t = 8 << 20)]
        max_body: usize,
        /// Require `Authorization: Bearer TOKEN` (also read from ZKINFER_SERVE_TOKEN).
        #[arg(long, env = "ZKINFER_SERVE_TOKEN", hide_env_values = true)]
        token: Option<String>,
        /// Where the job database and proofs live (default: MODELS/.zkinfer-serve).
        #[arg(long)]
        data: Option<PathBuf>,
        /// Seconds SIGTERM waits for running jobs before exiting (they restart next time).
        #[arg(long, default_value_t = 60)]
        grace_s: u64,
    },
    /// Run compile → setup → prove → verify on a bundled example model (`models/`).
    Demo {
        /// Working directory for the artifacts.
        #[arg(long, default_value = "out/demo")]
        out: PathBuf,
        /// Which bundled model: mlp (a small MLP), cnn (a small LeNet), transformer (a
        /// transformer block) or trees (a random forest in GEMM form).
        #[arg(long, default_value = "mlp")]
        model: String,
    },
}

#[derive(Debug, Subcommand)]
enum SrsCommand {
    /// Generate an INSECURE test SRS of size 2^k.
    Gen {
        /// log2 of the SRS size.
        #[arg(long)]
        k: u32,
        /// Output file.
        #[arg(long)]
        out: PathBuf,
    },
    /// Import a ceremony SRS for real use (writes an srs.bin for `setup --srs`).
    ///
    /// FILE is a halo2 KZG parameter file of the perpetual powers of tau ceremony, as converted
    /// by halo2-kzg-srs and used by EZKL (`perpetual-powers-of-tau-raw-<k>`; the compressed
    /// `perpetual-powers-of-tau-<k>` and the Hermez conversions are read too). Its SHA-256 must
    /// be on zkinfer's pinned list, and its points must be the powers of one secret and their
    /// Lagrange basis (pairing checks). Nothing is downloaded: bring the file.
    Import {
        /// The ceremony file.
        file: PathBuf,
        /// Output file (zkinfer's srs.bin format).
        #[arg(long)]
        out: PathBuf,
        /// Keep only 2^k points (at most the file's k). Recomputing the Lagrange points takes
        /// a while for large k; the ceremony files exist for every k, so prefer the one you need.
        #[arg(long)]
        k: Option<u32>,
        /// Import a file whose hash is not pinned (after the same checks). The SRS is then marked
        /// unpinned, and `setup` warns that its security rests on where the file came from.
        #[arg(long)]
        allow_unpinned: bool,
    },
}

/// Built with `--features asm`, the field arithmetic uses BMI2 and ADX instructions: on a CPU
/// without them, stop with a clear message rather than an illegal-instruction crash.
#[cfg(all(feature = "asm", target_arch = "x86_64"))]
fn cpu_supports_build() -> Result<(), String> {
    if std::arch::is_x86_feature_detected!("bmi2") && std::arch::is_x86_feature_detected!("adx") {
        Ok(())
    } else {
        Err(
            "this zkinfer was built with `--features asm`, which needs a CPU with BMI2 and ADX; \
             this CPU lacks them: rebuild without `--features asm`"
                .to_string(),
        )
    }
}

#[cfg(not(all(feature = "asm", target_arch = "x86_64")))]
fn cpu_supports_build() -> Result<(), String> {
    Ok(())
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Err(e) = cpu_supports_build() {
        eprintln!("error: {e}");
        return ExitCode::FAILURE;
    }
    let result = match cli.command {
        Command::Compile {
            model,
            calibration,
            out,
            scale,
            weight_scale,
            headroom_bits,
            bound_headroom_bits,
            max_error,
            table_scale,
            max_lanes,
            input_visibility,
            output_visibility,
            param_visibility,
            chunks,
            max_k,
        } => {
            let chunking = match (chunks, max_k) {
                (Some(n), _) => Some(zkinfer::pipeline::chunked::Chunking::Count(n as usize)),
                (None, Some(k)) => Some(zkinfer::pipeline::chunked::Chunking::MaxK(k)),
                (None, None) => None,
            };
            let config = QuantizeConfig {
                scale: scale.unwrap_or(QuantizeConfig::DEFAULT.scale),
                weight_scale,
                headroom_bits,
                table_scale: table_scale.unwrap_or(QuantizeConfig::DEFAULT.table_scale),
                bound_headroom_bits,
            };
            let search = zkinfer::pipeline::Search {
                max_error,
                table_scale,
                fixed_scale: scale.is_some(),
                max_lanes: max_lanes.map(|l| l as usize),
                input_visibility,
                output_visibility,
                param_visibility,
            };
            cmd::compile::run(&model, &calibration, &out, config, &search, chunking)
        }
        Command::Plan { dir } => cmd::plan::run(&dir),
        Command::Setup {
            dir,
            insecure_test_srs,
            srs,
        } => cmd::setup::run_any(&dir, insecure_test_srs, srs.as_deref()),
        Command::Prove {
            dir,
            input,
            row,
            out,
            device,
            salt,
            jobs,
        } => cmd::prove::run_any(
            &dir,
            &input,
            row,
            &out,
            device,
            salt.as_deref(),
            jobs as usize,
        ),
        Command::Verify {
            vk,
            proof,
            evm,
            model,
            srs,
            onnx,
            expect_input_hash,
            expect_output_hash,
            expect_param_hash,
        } => {
            use cmd::verify::Committed;
            let expected = [
                (Committed::Input, expect_input_hash),
                (Committed::Output, expect_output_hash),
                (Committed::Params, expect_param_hash),
            ];
            if cmd::verify::is_bundle(&proof) {
                cmd::verify::run_chunked(&vk, &proof, evm, model.is_some(), &expected)
            } else {
                // A model directory stands for its vk.bin.
                let vk = if vk.is_dir() { vk.join("vk.bin") } else { vk };
                let source = model.map(|model| cmd::verify::ModelSource { model, srs, onnx });
                for (which, want) in expected {
                    if let Some(want) = want {
                        if let Err(e) = cmd::verify::check_hash(&proof, which, &want) {
                            eprintln!("error: {e:#}");
                            return ExitCode::FAILURE;
                        }
                    }
                }
                if evm {
                    cmd::verify::run_evm_checked(&vk, &proof, source.as_ref())
                } else {
                    cmd::verify::run_checked(&vk, &proof, source.as_ref()).map(|_| ())
                }
            }
        }
        Command::ExportVerifier {
            dir,
            out,
            weights_from,
        } => cmd::export::run(&dir, &out, weights_from.as_deref()),
        Command::Run {
            dir,
            input,
            row,
            device,
        } => cmd::run::run(&dir, &input, row, device),
        Command::Hash {
            dir,
            input,
            row,
            salt,
        } => match input {
            Some(input) => cmd::hash::run(&dir, &input, row, salt.as_deref()),
            None => cmd::hash::params(&dir),
        },
        Command::Bench { dir, input, runs } => cmd::bench::run(&dir, &input, runs),
        Command::EncodeCalldata { proof, out, hex } => cmd::calldata::run(&proof, &out, hex),
        Command::Srs {
            command: SrsCommand::Gen { k, out },
        } => cmd::setup::srs_gen(k, &out),
        Command::Srs {
            command:
                SrsCommand::Import {
                    file,
                    out,
                    k,
                    allow_unpinned,
                },
        } => cmd::setup::srs_import(&file, &out, k, allow_unpinned),
        Command::Demo { out, model } => cmd::demo::run(&out, &model),
        Command::Serve {
            models,
            addr,
            workers,
            queue_limit,
            max_body,
            token,
            data,
            grace_s,
        } => cmd::serve::run(&zkinfer_server::ServeConfig {
            models,
            addr,
            workers: workers as usize,
            queue_limit: queue_limit as usize,
            max_body,
            token,
            data,
            grace: std::time::Duration::from_secs(grace_s),
        }),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        // The reader of our output went away: nothing is left to report to it.
        Err(e) if is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {}", one_line(&e));
            ExitCode::FAILURE
        }
    }
}

/// Whether `e` is a write to a closed pipe.
fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

/// The error and its causes on one line, skipping causes the message already quotes.
fn one_line(e: &anyhow::Error) -> String {
    zkinfer::pipeline::error::one_line(e.as_ref())
}

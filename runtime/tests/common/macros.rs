//! The conformance macros: each expands a case into one test per available device.

/// `conformance_test!(name, builder)` or `conformance_test!(name, builder, extra_inputs)`.
///
/// `builder: fn(&mut ChaCha8Rng) -> QGraph`; `extra_inputs: fn(&QGraph) -> Vec<Vec<i64>>`.
/// Expands to a module with one test per device: `name::cpu`, and `name::cuda` with the
/// `cuda` feature.
#[allow(unused_macros)]
macro_rules! conformance_test {
    ($name:ident, $build:expr) => {
        conformance_test!($name, $build, |_: &QGraph| Vec::new());
    };
    ($name:ident, $build:expr, $extra:expr) => {
        mod $name {
            use super::*;

            fn check(device: &Device) {
                let seed = seed_of(stringify!($name));
                let graph: QGraph = ($build)(&mut rng(seed));
                let mut all = inputs(&graph, seed);
                all.extend(($extra)(&graph));
                assert_conforms(&graph, &all, device);
            }

            #[test]
            fn cpu() {
                check(&Device::Cpu);
            }

            #[cfg(feature = "cuda")]
            #[test]
            fn cuda() {
                check(&Device::new_cuda(0).expect("CUDA device 0"));
            }
        }
    };
}

/// `rejection_test!(name, builder, good_inputs, bad_inputs)`: the graph's last node must
/// reproduce the reference on every good input and fail on every bad one with the
/// reference's own error (naming that node), on every device.
#[allow(unused_macros)]
macro_rules! rejection_test {
    ($name:ident, $build:expr, $good:expr, $bad:expr) => {
        mod $name {
            use super::*;

            fn check(device: &Device) {
                let seed = seed_of(stringify!($name));
                let graph: QGraph = ($build)(&mut rng(seed));
                let last = graph.nodes.last().expect("a node").name.clone();
                assert_conforms(&graph, &($good)(&graph), device);
                let bad: Vec<Vec<i64>> = ($bad)(&graph);
                assert!(!bad.is_empty());
                for input in &bad {
                    assert_same_error(&graph, input, &last, device);
                }
            }

            #[test]
            fn cpu() {
                check(&Device::Cpu);
            }

            #[cfg(feature = "cuda")]
            #[test]
            fn cuda() {
                check(&Device::new_cuda(0).expect("CUDA device 0"));
            }
        }
    };
}

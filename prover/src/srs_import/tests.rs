//! Tests of the ceremony-file import: formats, point checks, consistency, provenance.
use super::*;

#[test]
fn pinned_table_is_well_formed() {
    for (i, p) in PINNED.iter().enumerate() {
        assert_eq!(p.k, i as u32 + 1);
        assert_eq!(p.name, format!("perpetual-powers-of-tau-raw-{}", p.k));
        assert_eq!(p.sha256.len(), 64, "{}", p.name);
        assert!(p
            .sha256
            .bytes()
            .all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(&c)));
    }
    assert_eq!(PINNED.len(), 26);
}

#[test]
fn file_lengths() {
    assert_eq!(SrsFileFormat::Raw.file_len(4), 4 + 32 * 64 + 256);
    assert_eq!(SrsFileFormat::Compressed.file_len(4), 4 + 32 * 32 + 128);
}

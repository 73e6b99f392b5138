//! What one passphrase unlock costs: a single Argon2id derivation, through
//! `VaultHeader::set_passphrase` (derive, then seal the data key), at the defaults and at
//! the highest cost a header may ask for. The second figure bounds what a doctored
//! `vault.json` or archive header can make Hearth spend before "wrong passphrase".
//!
//! `cargo bench -p hearth-vault --bench kdf`; reported in docs/PERFORMANCE.md.

#![allow(missing_docs, clippy::unwrap_used)]

use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use hearth_vault::{
    DataKey, KdfParams, Passphrase, VaultHeader, MAX_KDF_MEMORY_KIB, MAX_KDF_WORK_KIB,
};

fn header() -> VaultHeader {
    VaultHeader {
        format: 1,
        vault_id: "0190aaaa-bbbb-7ccc-8ddd-eeeeeeeeeeee".into(),
        created_at: 0,
        keychain: false,
        passphrase: None,
        pending: None,
    }
}

fn kdf(c: &mut Criterion) {
    let key = DataKey::generate().unwrap();
    let pass = Passphrase::new("correct horse battery staple");
    let ceiling_iterations =
        u32::try_from(MAX_KDF_WORK_KIB / u64::from(MAX_KDF_MEMORY_KIB)).unwrap();
    let cases = [
        ("default (64 MiB, t=3)", KdfParams::default()),
        (
            "ceiling (1 GiB, t=2)",
            KdfParams {
                memory_kib: MAX_KDF_MEMORY_KIB,
                iterations: ceiling_iterations,
                parallelism: 1,
            },
        ),
    ];
    let mut group = c.benchmark_group("argon2id unlock");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(20));
    for (name, params) in cases {
        params.check().unwrap();
        group.bench_function(name, |b| {
            b.iter(|| {
                let mut h = header();
                h.set_passphrase(&key, &pass, params).unwrap();
                h
            })
        });
    }
    group.finish();
}

criterion_group!(benches, kdf);
criterion_main!(benches);

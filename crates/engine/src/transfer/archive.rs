//! The encrypted archive (`.hearth`): a Hearth JSON export sealed with its own
//! passphrase, written and read as a stream.
//!
//! The key comes from Argon2id over the passphrase and a random salt, with the costs
//! recorded in the header (new archives use the vault's defaults; costs below the
//! vault's floor are refused on read). HKDF-SHA256 splits it into an AES-256-GCM key
//! and a key-check key. The plaintext is sealed in chunks of [`CHUNK_SIZE`] bytes with
//! the STREAM construction: each chunk's nonce is a random 7-byte prefix, a 4-byte
//! big-endian chunk counter and a 1-byte last-chunk flag, and the whole header is the
//! associated data of every chunk. So a flipped byte anywhere, chunks reordered,
//! duplicated or dropped, and a file cut short (even exactly between two chunks) all
//! fail authentication, and a reader never hands out plaintext that has not passed it.
//!
//! The byte layout is in `docs/export-format.md`.

use std::io::{self, Read, Write};

use argon2::{Algorithm, Argon2, Params, Version};
use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM, NONCE_LEN};
use ring::hkdf;
use ring::hmac;
use ring::rand::{SecureRandom, SystemRandom};
use zeroize::Zeroizing;

use hearth_vault::{ImportReport, KdfParams, Passphrase};

use super::hearth_json::ExportProgress;
use crate::error::{EngineError, Result};
use crate::Engine;

/// The first bytes of every archive: 0x89, `HEARTH`, and a newline (a file that went
/// through a text conversion no longer matches).
pub const MAGIC: [u8; 8] = [0x89, b'H', b'E', b'A', b'R', b'T', b'H', b'\n'];

/// The archive format this build writes and reads.
pub const ARCHIVE_VERSION: u8 = 1;

/// The key derivation named in the header: Argon2id, version 0x13.
const KDF_ARGON2ID: u8 = 1;

/// Plaintext bytes per chunk (the last chunk may hold fewer).
pub const CHUNK_SIZE: usize = 64 * 1024;

/// The smallest and largest chunk size a header may state; outside them the file is
/// damaged (and a huge one would make the reader allocate it).
const MIN_CHUNK_SIZE: u32 = 1024;
const MAX_CHUNK_SIZE: u32 = 16 * 1024 * 1024;

/// The AES-GCM tag after each chunk.
const TAG_LEN: usize = 16;
const SALT_LEN: usize = 16;
const PREFIX_LEN: usize = 7;
const CHECK_LEN: usize = 32;

/// The header's length: magic, version, KDF, m, t, p, salt, chunk size, nonce prefix,
/// key check.
pub const HEADER_LEN: usize = 8 + 1 + 1 + 4 + 4 + 4 + SALT_LEN + 4 + PREFIX_LEN + CHECK_LEN;

/// Where the key check starts in the header.
const CHECK_AT: usize = HEADER_LEN - CHECK_LEN;

/// HKDF labels for the two keys drawn from the Argon2id output.
const HKDF_SALT: &[u8] = b"hearth-archive-v1";
const INFO_CONTENT: &[u8] = b"content key";
const INFO_CHECK: &[u8] = b"key check";
/// What the key check authenticates.
const CHECK_MESSAGE: &[u8] = b"hearth archive key check";

/// The shortest archive passphrase Hearth accepts.
pub const MIN_PASSPHRASE_CHARS: usize = 8;

/// The keys of one archive.
struct Keys {
    content: LessSafeKey,
    check: hmac::Key,
}

/// Derives the keys from `passphrase` with the header's salt and costs.
fn derive(passphrase: &Passphrase, salt: &[u8], kdf: &KdfParams) -> Result<Keys> {
    let params = Params::new(kdf.memory_kib, kdf.iterations, kdf.parallelism, Some(32))
        .map_err(|e| EngineError::Invalid(format!("bad Argon2id parameters: {e}")))?;
    let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
    let mut master = Zeroizing::new([0u8; 32]);
    argon
        .hash_password_into(passphrase.expose(), salt, master.as_mut())
        .map_err(|e| EngineError::Invalid(format!("Argon2id failed: {e}")))?;
    let prk = hkdf::Salt::new(hkdf::HKDF_SHA256, HKDF_SALT).extract(master.as_ref());
    let failed = |_| EngineError::Invalid("cannot derive the archive keys".into());
    let content: UnboundKey = prk
        .expand(&[INFO_CONTENT], &AES_256_GCM)
        .map_err(failed)?
        .into();
    let check: hmac::Key = prk
        .expand(&[INFO_CHECK], hmac::HMAC_SHA256)
        .map_err(failed)?
        .into();
    Ok(Keys {
        content: LessSafeKey::new(content),
        check,
    })
}

/// The nonce of chunk `counter`.
fn nonce(prefix: &[u8; PREFIX_LEN], counter: u32, last: bool) -> Nonce {
    let mut n = [0u8; NONCE_LEN];
    n[..PREFIX_LEN].copy_from_slice(prefix);
    n[PREFIX_LEN..PREFIX_LEN + 4].copy_from_slice(&counter.to_be_bytes());
    n[NONCE_LEN - 1] = u8::from(last);
    Nonce::assume_unique_for_key(n)
}

/// Refuses a passphrase too short to protect an archive.
pub fn check_passphrase(passphrase: &Passphrase) -> Result<()> {
    let chars = std::str::from_utf8(passphrase.expose())
        .map(|s| s.chars().count())
        .unwrap_or(passphrase.expose().len());
    if chars < MIN_PASSPHRASE_CHARS {
        return Err(EngineError::Invalid(format!(
            "the archive passphrase must be at least {MIN_PASSPHRASE_CHARS} characters"
        )));
    }
    Ok(())
}

/// Writes an archive: the header at once, then a sealed chunk each time
/// [`CHUNK_SIZE`] bytes have been written and more follow, and the final chunk on
/// [`ArchiveWriter::finish`]. An archive that was never finished has no final chunk,
/// so a reader refuses it as cut short.
pub struct ArchiveWriter<W: Write> {
    out: W,
    key: LessSafeKey,
    header: [u8; HEADER_LEN],
    prefix: [u8; PREFIX_LEN],
    counter: u32,
    buf: Zeroizing<Vec<u8>>,
}

impl<W: Write> ArchiveWriter<W> {
    /// Starts an archive sealed with `passphrase`, at the vault's default Argon2id
    /// costs.
    pub fn new(out: W, passphrase: &Passphrase) -> Result<Self> {
        ArchiveWriter::with_kdf(out, passphrase, KdfParams::default())
    }

    /// Starts an archive with explicit Argon2id costs, which must be within the range
    /// a vault accepts.
    pub fn with_kdf(mut out: W, passphrase: &Passphrase, kdf: KdfParams) -> Result<Self> {
        kdf.check()
            .map_err(|e| EngineError::Invalid(format!("refusing to write the archive: {e}")))?;
        let rng = SystemRandom::new();
        let mut salt = [0u8; SALT_LEN];
        let mut prefix = [0u8; PREFIX_LEN];
        rng.fill(&mut salt)
            .and_then(|()| rng.fill(&mut prefix))
            .map_err(|_| EngineError::Invalid("the system random source failed".into()))?;
        let keys = derive(passphrase, &salt, &kdf)?;
        let mut header = [0u8; HEADER_LEN];
        let mut at = 0;
        let mut put = |bytes: &[u8]| {
            header[at..at + bytes.len()].copy_from_slice(bytes);
            at += bytes.len();
        };
        put(&MAGIC);
        put(&[ARCHIVE_VERSION, KDF_ARGON2ID]);
        put(&kdf.memory_kib.to_be_bytes());
        put(&kdf.iterations.to_be_bytes());
        put(&kdf.parallelism.to_be_bytes());
        put(&salt);
        put(&(CHUNK_SIZE as u32).to_be_bytes());
        put(&prefix);
        let check = hmac::sign(&keys.check, CHECK_MESSAGE);
        put(&check.as_ref()[..CHECK_LEN]);
        out.write_all(&header).map_err(write_failed)?;
        Ok(ArchiveWriter {
            out,
            key: keys.content,
            header,
            prefix,
            counter: 0,
            buf: Zeroizing::new(Vec::with_capacity(CHUNK_SIZE + TAG_LEN)),
        })
    }

    /// Seals what is buffered as chunk `counter` and writes it.
    fn seal(&mut self, last: bool) -> io::Result<()> {
        let nonce = nonce(&self.prefix, self.counter, last);
        let tag = self
            .key
            .seal_in_place_separate_tag(nonce, Aad::from(&self.header[..]), &mut self.buf[..])
            .map_err(|_| io::Error::other("sealing an archive chunk failed"))?;
        self.out.write_all(&self.buf)?;
        self.out.write_all(tag.as_ref())?;
        self.buf.clear();
        self.counter = self
            .counter
            .checked_add(1)
            .ok_or_else(|| io::Error::other("the archive is too large (more than 2^32 chunks)"))?;
        Ok(())
    }

    /// Seals the final chunk, flushes, and hands back the writer.
    pub fn finish(mut self) -> Result<W> {
        self.seal(true).map_err(write_failed)?;
        self.out.flush().map_err(write_failed)?;
        Ok(self.out)
    }
}

impl<W: Write> Write for ArchiveWriter<W> {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        if data.is_empty() {
            return Ok(0);
        }
        // A full buffer is sealed only once more data arrives: until then it might
        // be the final chunk.
        if self.buf.len() == CHUNK_SIZE {
            self.seal(false)?;
        }
        let n = data.len().min(CHUNK_SIZE - self.buf.len());
        self.buf.extend_from_slice(&data[..n]);
        Ok(n)
    }

    /// Flushes what has been sealed; the buffered part of a chunk waits for more.
    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

impl<W: Write> std::fmt::Debug for ArchiveWriter<W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ArchiveWriter")
            .field("chunks", &self.counter)
            .finish_non_exhaustive()
    }
}

fn write_failed(e: io::Error) -> EngineError {
    EngineError::Invalid(format!("cannot write the archive: {e}"))
}

/// Reads an archive: checks the header and the passphrase when it is made, then
/// authenticates each chunk before any of its plaintext is handed out. A chunk that
/// fails (a wrong byte, chunks out of order, a file cut short) is an
/// [`io::ErrorKind::InvalidData`] error saying so, and every later read repeats it.
pub struct ArchiveReader<R: Read> {
    inner: R,
    key: LessSafeKey,
    header: [u8; HEADER_LEN],
    prefix: [u8; PREFIX_LEN],
    chunk_size: usize,
    counter: u32,
    /// Ciphertext read ahead: a chunk and one byte more, to know whether it is last.
    ahead: Vec<u8>,
    /// The current chunk's authenticated plaintext, and how much of it was read.
    plain: Zeroizing<Vec<u8>>,
    at: usize,
    done: bool,
    failed: Option<String>,
}

impl<R: Read> ArchiveReader<R> {
    /// Reads and checks the header, derives the key from `passphrase` and checks it.
    /// Fails on anything that is not a Hearth archive, on costs outside what a vault
    /// accepts, and with [`EngineError::WrongArchivePassphrase`] on a wrong passphrase.
    pub fn new(mut inner: R, passphrase: &Passphrase) -> Result<Self> {
        let mut header = [0u8; HEADER_LEN];
        let got = read_full(&mut inner, &mut header)
            .map_err(|e| EngineError::Invalid(format!("cannot read the archive: {e}")))?;
        if got < MAGIC.len() || header[..MAGIC.len()] != MAGIC {
            return Err(EngineError::Invalid(
                "not a Hearth archive: it does not start with the archive signature".into(),
            ));
        }
        let version = header[8];
        if version != ARCHIVE_VERSION {
            return Err(EngineError::Invalid(if version > ARCHIVE_VERSION {
                format!("this archive is format {version}, from a newer Hearth; this Hearth reads format {ARCHIVE_VERSION}; update Hearth to import it")
            } else {
                format!("this archive's format {version} is unknown; the archive is damaged")
            }));
        }
        if got < HEADER_LEN {
            return Err(EngineError::Invalid(
                "the archive is cut short: it ends inside its header".into(),
            ));
        }
        if header[9] != KDF_ARGON2ID {
            return Err(EngineError::Invalid(format!(
                "this archive names an unknown key derivation ({}); the archive is damaged",
                header[9]
            )));
        }
        let word = |at: usize| {
            u32::from_be_bytes([header[at], header[at + 1], header[at + 2], header[at + 3]])
        };
        let kdf = KdfParams {
            memory_kib: word(10),
            iterations: word(14),
            parallelism: word(18),
        };
        kdf.check().map_err(|e| {
            EngineError::Invalid(format!(
                "refusing this archive: {e}; it is damaged or was not made by Hearth"
            ))
        })?;
        let salt = &header[22..22 + SALT_LEN];
        let chunk_size = word(38);
        if !(MIN_CHUNK_SIZE..=MAX_CHUNK_SIZE).contains(&chunk_size) {
            return Err(EngineError::Invalid(format!(
                "this archive states a chunk size of {chunk_size} bytes, outside what Hearth reads; the archive is damaged"
            )));
        }
        let mut prefix = [0u8; PREFIX_LEN];
        prefix.copy_from_slice(&header[42..42 + PREFIX_LEN]);
        let keys = derive(passphrase, salt, &kdf)?;
        // A changed salt or cost derives another key too: the two look the same.
        hmac::verify(&keys.check, CHECK_MESSAGE, &header[CHECK_AT..])
            .map_err(|_| EngineError::WrongArchivePassphrase)?;
        let chunk_size = chunk_size as usize;
        Ok(ArchiveReader {
            inner,
            key: keys.content,
            header,
            prefix,
            chunk_size,
            counter: 0,
            ahead: Vec::with_capacity(chunk_size + TAG_LEN + 1),
            plain: Zeroizing::new(Vec::with_capacity(chunk_size + TAG_LEN)),
            at: 0,
            done: false,
            failed: None,
        })
    }

    /// Reads, authenticates and decrypts the next chunk into `plain`.
    fn next_chunk(&mut self) -> std::result::Result<(), String> {
        let sealed = self.chunk_size + TAG_LEN;
        // Fill to a whole chunk plus one byte, or to the end of the file.
        let want = sealed + 1;
        let had = self.ahead.len();
        self.ahead.resize(want, 0);
        let got = read_full(&mut self.inner, &mut self.ahead[had..])
            .map_err(|e| format!("cannot read the archive: {e}"))?;
        self.ahead.truncate(had + got);
        let last = self.ahead.len() < want;
        let len = if last { self.ahead.len() } else { sealed };
        let chunk = self.counter as u64 + 1;
        if len < TAG_LEN {
            return Err(if self.counter == 0 && len == 0 {
                "the archive is cut short: it holds no data after its header".into()
            } else {
                format!("the archive is cut short: chunk {chunk} is incomplete")
            });
        }
        // A whole chunk at the very end may be a middle chunk whose successors were
        // cut off: keep its ciphertext to tell that apart if it fails as the last.
        let retry = (last && len == sealed).then(|| Zeroizing::new(self.ahead[..len].to_vec()));
        self.plain.clear();
        self.plain.extend_from_slice(&self.ahead[..len]);
        self.ahead.drain(..len);
        let opened = self
            .key
            .open_in_place(
                nonce(&self.prefix, self.counter, last),
                Aad::from(&self.header[..]),
                &mut self.plain[..],
            )
            .map(|p| p.len());
        match opened {
            Ok(n) => {
                self.plain.truncate(n);
                self.at = 0;
                self.done = last;
                self.counter = self
                    .counter
                    .checked_add(1)
                    .ok_or("the archive has too many chunks")?;
                Ok(())
            }
            Err(_) => {
                self.plain.clear();
                if let Some(mut sealed_copy) = retry {
                    // Wiped on drop: on success it holds plaintext, which is not used.
                    let middle = self
                        .key
                        .open_in_place(
                            nonce(&self.prefix, self.counter, false),
                            Aad::from(&self.header[..]),
                            &mut sealed_copy[..],
                        )
                        .is_ok();
                    if middle {
                        return Err(format!(
                            "the archive is cut short: it ends after chunk {chunk}, without its final chunk"
                        ));
                    }
                }
                Err(if last {
                    format!("the archive is damaged or cut short: chunk {chunk} (the last one) does not authenticate")
                } else {
                    format!("the archive is damaged or was changed: chunk {chunk} does not authenticate")
                })
            }
        }
    }
}

impl<R: Read> Read for ArchiveReader<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        loop {
            if let Some(why) = &self.failed {
                return Err(io::Error::new(io::ErrorKind::InvalidData, why.clone()));
            }
            if self.at < self.plain.len() {
                let n = out.len().min(self.plain.len() - self.at);
                out[..n].copy_from_slice(&self.plain[self.at..self.at + n]);
                self.at += n;
                return Ok(n);
            }
            if self.done || out.is_empty() {
                return Ok(0);
            }
            if let Err(why) = self.next_chunk() {
                self.failed = Some(why);
            }
        }
    }
}

impl<R: Read> std::fmt::Debug for ArchiveReader<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ArchiveReader")
            .field("chunks", &self.counter)
            .finish_non_exhaustive()
    }
}

/// Reads until `buf` is full or the reader ends; returns how much was read.
fn read_full(reader: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut got = 0;
    while got < buf.len() {
        match reader.read(&mut buf[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(got)
}

impl Engine {
    /// Writes every conversation (or only `only`) as an encrypted archive to `out`:
    /// the JSON export sealed with `passphrase` (at least [`MIN_PASSPHRASE_CHARS`]
    /// characters).
    pub fn export_archive(
        &self,
        out: impl Write,
        passphrase: &Passphrase,
        only: Option<&str>,
        progress: impl FnMut(&ExportProgress),
    ) -> Result<ExportProgress> {
        check_passphrase(passphrase)?;
        // Deriving the key takes a moment; the vault is not locked meanwhile.
        let mut archive = ArchiveWriter::new(out, passphrase)?;
        let done = self.export_json(&mut archive, only, progress)?;
        archive.finish()?;
        Ok(done)
    }

    /// Imports an encrypted archive: the passphrase is checked first, then the export
    /// inside is imported all or nothing, as by [`Engine::import_hearth_json`]. A chunk
    /// that does not authenticate stops the import before anything is kept.
    pub fn import_hearth_archive(
        &self,
        reader: impl Read + Send,
        passphrase: &Passphrase,
        progress: impl FnMut(&ImportReport),
    ) -> Result<ImportReport> {
        let archive = ArchiveReader::new(reader, passphrase).map_err(|e| match e {
            EngineError::Invalid(why) => {
                EngineError::Invalid(format!("{why}; nothing was imported"))
            }
            other => other,
        })?;
        self.import_hearth_json(archive, progress)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::super::hearth_json::test_support::*;
    use super::*;

    const PASS: &str = "archive test passphrase";

    fn seal(plain: &[u8]) -> Vec<u8> {
        let mut w = ArchiveWriter::with_kdf(Vec::new(), &Passphrase::new(PASS), fast()).unwrap();
        // Uneven pieces, as a JSON writer gives them.
        for piece in plain.chunks(7_777) {
            w.write_all(piece).unwrap();
        }
        w.finish().unwrap()
    }

    /// What a reader yields before it stops, and its error if it stops with one.
    fn open(archive: &[u8]) -> (Vec<u8>, Option<String>) {
        let mut reader = match ArchiveReader::new(archive, &Passphrase::new(PASS)) {
            Ok(r) => r,
            Err(e) => return (Vec::new(), Some(e.to_string())),
        };
        let mut out = Vec::new();
        let mut buf = [0u8; 5000];
        loop {
            match reader.read(&mut buf) {
                Ok(0) => return (out, None),
                Ok(n) => out.extend_from_slice(&buf[..n]),
                Err(e) => {
                    // The error sticks.
                    assert!(reader.read(&mut buf).is_err());
                    return (out, Some(e.to_string()));
                }
            }
        }
    }

    fn plaintext(len: usize) -> Vec<u8> {
        (0..len).map(|i| (i * 31 % 251) as u8).collect()
    }

    /// Where chunk `i` (0-based) starts in an archive.
    fn chunk_at(i: usize) -> usize {
        HEADER_LEN + i * (CHUNK_SIZE + TAG_LEN)
    }

    #[test]
    fn every_length_round_trips() {
        for len in [
            0,
            1,
            100,
            CHUNK_SIZE - 1,
            CHUNK_SIZE,
            CHUNK_SIZE + 1,
            3 * CHUNK_SIZE,
            3 * CHUNK_SIZE + 5,
        ] {
            let plain = plaintext(len);
            let archive = seal(&plain);
            let chunks = len.div_ceil(CHUNK_SIZE).max(1);
            assert_eq!(
                archive.len(),
                HEADER_LEN + len + chunks * TAG_LEN,
                "length {len}"
            );
            assert_eq!(open(&archive), (plain, None), "length {len}");
        }
    }

    #[test]
    fn the_header_records_the_costs_and_a_fresh_salt() {
        let a = seal(b"same");
        let b = seal(b"same");
        assert_eq!(a[..8], MAGIC);
        assert_eq!(u32::from_be_bytes(a[10..14].try_into().unwrap()), 19 * 1024);
        assert_eq!(u32::from_be_bytes(a[14..18].try_into().unwrap()), 2);
        assert_ne!(a[22..38], b[22..38], "salt");
        assert_ne!(a[42..49], b[42..49], "nonce prefix");
        assert_ne!(a[HEADER_LEN..], b[HEADER_LEN..]);
    }

    #[test]
    fn a_wrong_passphrase_is_reported_as_such() {
        let archive = seal(b"secret");
        let e =
            ArchiveReader::new(&archive[..], &Passphrase::new("not the passphrase")).unwrap_err();
        assert!(matches!(e, EngineError::WrongArchivePassphrase), "{e}");
        assert!(e.to_string().starts_with("wrong archive passphrase"), "{e}");
    }

    #[test]
    fn costs_below_the_floor_are_refused_before_any_work() {
        let mut archive = seal(b"secret");
        archive[10..14].copy_from_slice(&8u32.to_be_bytes());
        let (_, e) = open(&archive);
        assert!(e.unwrap().contains("below the minimum"));
        let weak = KdfParams {
            memory_kib: 1024,
            iterations: 1,
            parallelism: 1,
        };
        assert!(ArchiveWriter::with_kdf(Vec::new(), &Passphrase::new(PASS), weak).is_err());
    }

    #[test]
    fn costs_above_the_ceiling_are_refused_before_any_work() {
        // A patched header asking for 2 GiB at 3 passes (a derivation of many seconds
        // and 2 GiB of memory) is refused by reading it, before any derivation; the
        // message says why rather than blaming the passphrase.
        for (at, value) in [(10, 2 * 1024 * 1024u32), (14, 64), (18, 16)] {
            let mut archive = seal(b"secret");
            archive[at..at + 4].copy_from_slice(&value.to_be_bytes());
            let (got, e) = open(&archive);
            let e = e.expect("refused");
            assert!(e.contains("more than Hearth will spend"), "{e}");
            assert!(got.is_empty());
        }
    }

    #[test]
    fn a_flipped_byte_anywhere_in_the_header_is_refused() {
        let plain = plaintext(CHUNK_SIZE + 10);
        let archive = seal(&plain);
        for i in 0..HEADER_LEN {
            let mut bad = archive.clone();
            bad[i] ^= 0xff;
            let (got, e) = open(&bad);
            assert!(e.is_some(), "byte {i} flipped was accepted");
            assert!(got.is_empty(), "byte {i} flipped yielded plaintext");
        }
    }

    #[test]
    fn a_flipped_byte_in_a_chunk_stops_at_that_chunk() {
        let plain = plaintext(3 * CHUNK_SIZE + 10);
        let archive = seal(&plain);
        for (chunk, offset) in [(0, 0), (1, 5), (1, CHUNK_SIZE + 3), (3, 2)] {
            let mut bad = archive.clone();
            bad[chunk_at(chunk) + offset] ^= 1;
            let (got, e) = open(&bad);
            let e = e.unwrap();
            assert!(e.contains(&format!("chunk {}", chunk + 1)), "{e}");
            // Only whole chunks before the damaged one came out, and they are right.
            assert_eq!(got, plain[..chunk * CHUNK_SIZE]);
        }
    }

    #[test]
    fn a_cut_anywhere_is_refused() {
        let plain = plaintext(2 * CHUNK_SIZE + 100);
        let archive = seal(&plain);
        let mut cuts = vec![
            0,
            5,
            HEADER_LEN - 1,
            HEADER_LEN,
            HEADER_LEN + 1,
            HEADER_LEN + 16,
        ];
        for i in 1..=2 {
            cuts.extend([
                chunk_at(i) - 1,
                chunk_at(i),
                chunk_at(i) + 1,
                chunk_at(i) + TAG_LEN,
            ]);
        }
        cuts.push(archive.len() - 1);
        for cut in cuts {
            let (got, e) = open(&archive[..cut]);
            let e = e.unwrap_or_else(|| panic!("cut at {cut} was accepted"));
            assert!(
                e.contains("cut short") || e.contains("signature"),
                "cut at {cut}: {e}"
            );
            assert_eq!(got, plain[..got.len()]);
            assert_eq!(got.len() % CHUNK_SIZE, 0);
        }
        // Exactly between two chunks: the reader says the final chunk is missing.
        let (_, e) = open(&archive[..chunk_at(2)]);
        assert!(e.unwrap().contains("without its final chunk"));
    }

    #[test]
    fn chunks_swapped_duplicated_or_dropped_are_refused() {
        let plain = plaintext(3 * CHUNK_SIZE + 100);
        let archive = seal(&plain);
        let chunk = |i: usize| {
            let end = (chunk_at(i + 1)).min(archive.len());
            archive[chunk_at(i)..end].to_vec()
        };
        let header = archive[..HEADER_LEN].to_vec();
        let build = |order: &[usize]| {
            let mut out = header.clone();
            for &i in order {
                out.extend(chunk(i));
            }
            out
        };
        for order in [
            vec![1, 0, 2, 3],
            vec![0, 2, 1, 3],
            vec![0, 0, 1, 2, 3],
            vec![0, 2, 3],
            vec![0, 1, 2],
            vec![0, 1, 2, 3, 3],
        ] {
            let (got, e) = open(&build(&order));
            assert!(e.is_some(), "{order:?} was accepted");
            assert_eq!(got, plain[..got.len()], "{order:?}");
        }
        assert_eq!(open(&build(&[0, 1, 2, 3])), (plain, None));
        // A chunk from another archive with the same passphrase does not fit either.
        let other = seal(&plaintext(3 * CHUNK_SIZE + 100));
        let mut mixed = archive.clone();
        mixed[chunk_at(1)..chunk_at(2)].copy_from_slice(&other[chunk_at(1)..chunk_at(2)]);
        assert!(open(&mixed).1.is_some());
    }

    #[test]
    fn short_passphrases_are_refused() {
        assert!(check_passphrase(&Passphrase::new("short")).is_err());
        assert!(check_passphrase(&Passphrase::new("éééééééé")).is_ok());
    }

    #[test]
    fn engine_archive_round_trip_and_refusals_import_nothing() {
        let a = tempfile::tempdir().unwrap();
        let source = engine(a.path());
        source
            .import_trees(vec![Ok(sample_with_calls("c1")), Ok(sample("c2"))], |_| {})
            .unwrap();
        let pass = Passphrase::new(PASS);
        // The engine's own writer uses the default costs; build the same with the
        // floor to keep the test quick.
        let mut json = Vec::new();
        source.export_json(&mut json, None, |_| {}).unwrap();
        let archive = seal(&json);

        let b = tempfile::tempdir().unwrap();
        let dest = engine(b.path());
        let e = dest
            .import_hearth_archive(&archive[..], &Passphrase::new("wrong passphrase"), |_| {})
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("wrong archive passphrase") && e.ends_with("nothing was imported"),
            "{e}"
        );
        let mut flipped = archive.clone();
        let last = flipped.len() - 1;
        flipped[last] ^= 1;
        let e = dest
            .import_hearth_archive(&flipped[..], &pass, |_| {})
            .unwrap_err()
            .to_string();
        assert!(e.contains("does not authenticate"), "{e}");
        let e = dest
            .import_hearth_archive(&archive[..archive.len() - 20], &pass, |_| {})
            .unwrap_err()
            .to_string();
        assert!(e.contains("cut short"), "{e}");
        assert!(trees(&dest).is_empty());

        let report = dest
            .import_hearth_archive(&archive[..], &pass, |_| {})
            .unwrap();
        assert_eq!(report.added, 2);
        assert_eq!(trees(&dest), trees(&source));
        // The replies' tool calls came inside it, as they were.
        assert_eq!(
            trees(&dest)[0].tool_calls,
            sample_with_calls("c1").tool_calls
        );
    }

    #[test]
    fn the_engine_writes_archives_at_the_default_costs() {
        let a = tempfile::tempdir().unwrap();
        let source = engine(a.path());
        source.import_trees(vec![Ok(sample("c1"))], |_| {}).unwrap();
        let mut archive = Vec::new();
        let e = source
            .export_archive(&mut archive, &Passphrase::new("short"), None, |_| {})
            .unwrap_err();
        assert!(e.to_string().contains("at least 8"));
        assert!(archive.is_empty());
        source
            .export_archive(&mut archive, &Passphrase::new(PASS), None, |_| {})
            .unwrap();
        let defaults = KdfParams::default();
        assert_eq!(
            u32::from_be_bytes(archive[10..14].try_into().unwrap()),
            defaults.memory_kib
        );
        assert_eq!(
            u32::from_be_bytes(archive[14..18].try_into().unwrap()),
            defaults.iterations
        );
        let b = tempfile::tempdir().unwrap();
        let dest = engine(b.path());
        dest.import_hearth_archive(&archive[..], &Passphrase::new(PASS), |_| {})
            .unwrap();
        assert_eq!(trees(&dest), trees(&source));
    }
}

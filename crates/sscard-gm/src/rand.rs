//! Randomness from the operating system.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// `N` random bytes from the OS generator.
///
/// # Panics
/// If the operating system random source fails, which is not recoverable.
pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut buf = [0u8; N];
    fill(&mut buf);
    buf
}

/// Fill `buf` with random bytes from the OS generator.
///
/// # Panics
/// If the operating system random source fails, which is not recoverable.
pub fn fill(buf: &mut [u8]) {
    if let Err(e) = getrandom::fill(buf) {
        panic!("operating system random source failed: {e}");
    }
}

/// Bytes of the OS generator a thread draws at once for [`nonce_bytes`].
const NONCE_POOL: usize = 4096;

/// `N` random bytes for a nonce (never a key): from the OS generator like [`random_bytes`],
/// but drawn [`NONCE_POOL`] bytes at a time into a buffer of the calling thread and each byte
/// handed out once, so that sealing a million values costs a few thousand system calls rather
/// than a million.
///
/// # Panics
/// If the operating system random source fails, or `N` is over 4,096.
pub fn nonce_bytes<const N: usize>() -> [u8; N] {
    assert!(N <= NONCE_POOL, "a nonce of {N} bytes");
    thread_local! {
        static POOL: std::cell::RefCell<([u8; NONCE_POOL], usize)> =
            const { std::cell::RefCell::new(([0; NONCE_POOL], NONCE_POOL)) };
    }
    POOL.with_borrow_mut(|(pool, used)| {
        if NONCE_POOL - *used < N {
            fill(pool);
            *used = 0;
        }
        let mut out = [0u8; N];
        out.copy_from_slice(&pool[*used..*used + N]);
        // Handed out: not kept in memory afterwards.
        pool[*used..*used + N].fill(0);
        *used += N;
        out
    })
}

/// 32 random bytes as base64url without padding (43 characters).
pub fn random_token() -> String {
    URL_SAFE_NO_PAD.encode(random_bytes::<32>())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nonces_do_not_repeat_across_refills() {
        let mut seen = std::collections::HashSet::new();
        // More than one pool's worth, so the refill is crossed.
        for _ in 0..(3 * NONCE_POOL / 12) {
            assert!(seen.insert(nonce_bytes::<12>()), "a nonce came twice");
        }
        assert_ne!(nonce_bytes::<16>(), [0u8; 16]);
    }

    #[test]
    fn token_shape() {
        let a = random_token();
        let b = random_token();
        assert_eq!(a.len(), 43);
        assert_ne!(a, b);
        assert!(a.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_'));
        assert_ne!(random_bytes::<16>(), [0u8; 16]);
    }
}

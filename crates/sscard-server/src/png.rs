//! A minimal PNG encoder for QR codes: 1-bit grayscale, one IDAT of stored (uncompressed)
//! deflate blocks, with hand-written CRC-32 and Adler-32. Enough for black-and-white module
//! grids of a few hundred pixels; no image crate needed.

const SIGNATURE: [u8; 8] = [0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a];

fn crc32(parts: &[&[u8]]) -> u32 {
    let mut crc = 0xffff_ffffu32;
    for part in parts {
        for &b in *part {
            crc ^= u32::from(b);
            for _ in 0..8 {
                let mask = (crc & 1).wrapping_neg();
                crc = (crc >> 1) ^ (0xedb8_8320 & mask);
            }
        }
    }
    !crc
}

fn adler32(data: &[u8]) -> u32 {
    let (mut a, mut b) = (1u32, 0u32);
    for chunk in data.chunks(5552) {
        for &x in chunk {
            a += u32::from(x);
            b += a;
        }
        a %= 65521;
        b %= 65521;
    }
    (b << 16) | a
}

fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    out.extend_from_slice(&(data.len() as u32).to_be_bytes());
    out.extend_from_slice(kind);
    out.extend_from_slice(data);
    out.extend_from_slice(&crc32(&[kind, data]).to_be_bytes());
}

/// zlib stream of stored deflate blocks.
fn zlib_stored(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len() + data.len() / 65535 * 5 + 16);
    out.extend_from_slice(&[0x78, 0x01]);
    let mut blocks = data.chunks(65535).peekable();
    if blocks.peek().is_none() {
        out.extend_from_slice(&[1, 0, 0, 0xff, 0xff]);
    }
    while let Some(block) = blocks.next() {
        out.push(u8::from(blocks.peek().is_none()));
        let len = block.len() as u16;
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(&(!len).to_le_bytes());
        out.extend_from_slice(block);
    }
    out.extend_from_slice(&adler32(data).to_be_bytes());
    out
}

/// Encodes a square grid of modules (`true` = dark) of `width` × `width`, each module `scale`
/// pixels, with a quiet zone of `quiet` modules around it, as a 1-bit grayscale PNG.
pub fn encode_modules(dark: &[bool], width: usize, scale: usize, quiet: usize) -> Vec<u8> {
    let scale = scale.clamp(1, 32);
    let side = (width + 2 * quiet) * scale;
    let row_bytes = side.div_ceil(8);
    let mut raw = Vec::with_capacity((row_bytes + 1) * side);
    for y in 0..side {
        raw.push(0); // filter: none
        let my = (y / scale).checked_sub(quiet).filter(|m| *m < width);
        let mut byte = 0u8;
        for x in 0..side {
            let mx = (x / scale).checked_sub(quiet).filter(|m| *m < width);
            let is_dark = match (mx, my) {
                (Some(mx), Some(my)) => dark.get(my * width + mx).copied().unwrap_or(false),
                _ => false,
            };
            // In 1-bit grayscale, 1 is white.
            if !is_dark {
                byte |= 0x80 >> (x % 8);
            }
            if x % 8 == 7 || x == side - 1 {
                raw.push(byte);
                byte = 0;
            }
        }
    }
    let mut ihdr = Vec::with_capacity(13);
    ihdr.extend_from_slice(&(side as u32).to_be_bytes());
    ihdr.extend_from_slice(&(side as u32).to_be_bytes());
    ihdr.extend_from_slice(&[1, 0, 0, 0, 0]); // bit depth 1, grayscale, deflate, adaptive, no interlace
    let mut out = Vec::with_capacity(raw.len() + 128);
    out.extend_from_slice(&SIGNATURE);
    chunk(&mut out, b"IHDR", &ihdr);
    chunk(&mut out, b"IDAT", &zlib_stored(&raw));
    chunk(&mut out, b"IEND", &[]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checksums_match_known_values() {
        assert_eq!(crc32(&[b"IEND"]), 0xae42_6082);
        assert_eq!(crc32(&[b"123456789"]), 0xcbf4_3926);
        assert_eq!(adler32(b"Wikipedia"), 0x11e6_0398);
    }

    #[test]
    fn png_structure() {
        let dark = [true, false, false, true];
        let png = encode_modules(&dark, 2, 3, 1);
        assert_eq!(&png[..8], &SIGNATURE);
        assert_eq!(&png[12..16], b"IHDR");
        // (2 + 2) * 3 = 12 pixels square.
        assert_eq!(u32::from_be_bytes([png[16], png[17], png[18], png[19]]), 12);
        assert_eq!(&png[png.len() - 8..png.len() - 4], b"IEND");
        // Raw data: 12 rows of 1 filter byte + 2 bytes; stored block of 36 bytes.
        let idat_len = u32::from_be_bytes([png[33], png[34], png[35], png[36]]) as usize;
        assert_eq!(idat_len, 2 + 5 + 36 + 4);
        let raw = &png[41 + 7..41 + 7 + 36];
        // Row 3 (first module row): quiet (white) 3 px, dark 3 px, white 3 px, quiet 3 px.
        assert_eq!(&raw[3 * 3..3 * 3 + 3], &[0, 0b1110_0011, 0b1111_0000]);
    }
}

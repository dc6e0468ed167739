//! Synthetic file content with realistic size and compressibility.

use rand::{Rng, RngCore};

/// A mu-law WAV prompt: a RIFF header, then speech-like 8 kHz samples drawn
/// from a per-language base signal with noise (compresses like real audio,
/// unlike random bytes).
pub fn wav(rng: &mut impl RngCore, base: &[u8], len: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(len + 44);
    let data_len = len as u32;
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&(36 + data_len).to_le_bytes());
    out.extend_from_slice(b"WAVEfmt ");
    out.extend_from_slice(&16u32.to_le_bytes());
    out.extend_from_slice(&7u16.to_le_bytes()); // mu-law
    out.extend_from_slice(&1u16.to_le_bytes()); // mono
    out.extend_from_slice(&8000u32.to_le_bytes());
    out.extend_from_slice(&8000u32.to_le_bytes());
    out.extend_from_slice(&1u16.to_le_bytes());
    out.extend_from_slice(&8u16.to_le_bytes());
    out.extend_from_slice(b"data");
    out.extend_from_slice(&data_len.to_le_bytes());
    let start = out.len();
    out.resize(start + len, 0);
    let mut offset = rng.gen_range(0..base.len());
    let mut noise = [0u8; 4096];
    for chunk in out[start..].chunks_mut(4096) {
        rng.fill_bytes(&mut noise);
        for (b, n) in chunk.iter_mut().zip(noise.iter()) {
            // Mostly the base signal, with low-amplitude noise.
            *b = base[offset] ^ (n & 0x03);
            offset += 1;
            if offset == base.len() {
                offset = 0;
            }
        }
    }
    out
}

/// A per-language base signal: mixed tones with syllable-like envelopes,
/// mu-law encoded.
pub fn base_signal(rng: &mut impl RngCore, len: usize) -> Vec<u8> {
    let f1: f32 = rng.gen_range(120.0..260.0);
    let f2: f32 = rng.gen_range(600.0..1400.0);
    let syllable: f32 = rng.gen_range(0.12..0.3);
    (0..len)
        .map(|i| {
            let t = i as f32 / 8000.0;
            let env = (std::f32::consts::PI * (t / syllable).fract()).sin();
            let s = env
                * (0.6 * (2.0 * std::f32::consts::PI * f1 * t).sin()
                    + 0.3 * (2.0 * std::f32::consts::PI * f2 * t).sin());
            mulaw((s * 20000.0) as i16)
        })
        .collect()
}

fn mulaw(sample: i16) -> u8 {
    const BIAS: i32 = 0x84;
    let mut s = sample as i32;
    let sign = if s < 0 {
        s = -s;
        0x80
    } else {
        0
    };
    s = (s + BIAS).min(32635);
    let exponent = (7 - ((s as u32) << 17).leading_zeros().min(7)) as i32;
    let mantissa = (s >> (exponent + 3)) & 0x0f;
    !(sign | (exponent << 4) | mantissa) as u8
}

/// A handler (`.ihd`): XML text, as the vendor's handler files are.
pub fn handler(rng: &mut impl RngCore, name: &str, target: usize) -> Vec<u8> {
    let mut out = String::with_capacity(target + 512);
    out.push_str(&format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\r\n<Handler Name=\"{name}\" Version=\"{}\">\r\n",
        rng.gen_range(1..40)
    ));
    let tools = [
        "Assign",
        "Alert",
        "Transfer",
        "Get Node Path",
        "DB Get Connection",
        "SQL Query",
        "Play Audio File",
        "Extract Digits",
        "Queue Audio",
        "Send Mail",
        "Set Attribute",
        "Get Attribute",
        "Lookup Workgroup",
        "Call Subroutine",
        "Notify",
        "Parse String",
    ];
    let mut step = 0;
    while out.len() < target {
        step += 1;
        let tool = tools[rng.gen_range(0..tools.len())];
        out.push_str(&format!(
            "  <Step Id=\"{step}\" Tool=\"{tool}\" X=\"{}\" Y=\"{}\">\r\n    <Input Name=\"p{}\" Expression=\"strVar{} &amp; &quot;{}&quot;\"/>\r\n    <Exit Name=\"Success\" Next=\"{}\"/>\r\n  </Step>\r\n",
            rng.gen_range(0..2000),
            rng.gen_range(0..2000),
            rng.gen_range(0..9),
            rng.gen_range(0..50),
            rng.gen_range(1000..99999),
            step + 1
        ));
    }
    out.push_str("</Handler>\r\n");
    out.into_bytes()
}

/// A report definition (`.rpt`): a binary container with query text and
/// layout records.
pub fn report(rng: &mut impl RngCore, name: &str, target: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(target + 256);
    out.extend_from_slice(&[0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1]);
    out.extend_from_slice(format!("Report:{name}\0").as_bytes());
    let mut block = [0u8; 256];
    while out.len() < target {
        out.extend_from_slice(
            format!(
                "SELECT I3TimeStampGMT, cName, nEnteredAcd, nAnsweredAcd, tTalkAcd FROM IWrkgrpQueueStats WHERE SiteId = {} AND dIntervalStart >= {{?Start}}\0",
                rng.gen_range(1..100)
            )
            .as_bytes(),
        );
        let n = rng.gen_range(32..256);
        rng.fill_bytes(&mut block[..n]);
        out.extend_from_slice(&block[..n]);
    }
    out.truncate(target);
    out
}

/// A small icon file.
pub fn icon(rng: &mut impl RngCore) -> Vec<u8> {
    let mut out = vec![0, 0, 1, 0, 1, 0, 32, 32, 0, 0, 1, 0, 32, 0];
    let mut pixels = vec![0u8; 4096];
    let color: [u8; 4] = [rng.gen(), rng.gen(), rng.gen(), 255];
    for (i, px) in pixels.chunks_mut(4).enumerate() {
        let on = (i % 32 > 4 && i % 32 < 28) && (i / 32 > 4 && i / 32 < 28);
        px.copy_from_slice(if on { &color } else { &[0, 0, 0, 0] });
    }
    out.extend_from_slice(&pixels);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn wav_has_a_valid_header_and_size() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
        let base = base_signal(&mut rng, 8000);
        let w = wav(&mut rng, &base, 1000);
        assert_eq!(&w[..4], b"RIFF");
        assert_eq!(&w[8..12], b"WAVE");
        assert_eq!(w.len(), 1044);
    }

    #[test]
    fn content_is_deterministic_per_seed() {
        let mk = |seed| {
            let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
            handler(&mut rng, "x", 2000)
        };
        assert_eq!(mk(5), mk(5));
        assert_ne!(mk(5), mk(6));
    }
}

//! Constant matrices for TensorFlow's audio ops (`AudioSpectrogram`, `Mfcc`) as
//! `batchedMatmul` weights, `[out, in]`, computed in f64 exactly as TF's kernels define them
//! (`spectrogram.cc`, `mfcc_mel_filterbank.cc`, `mfcc_dct.cc`):
//!
//! - the spectrogram frame is multiplied by a periodic Hann window
//!   `0.5 - 0.5 cos(2 pi n / window)`, zero-padded to the next power of two `L` and
//!   transformed; the matrix folds the window into the real DFT: rows `k` (real parts) and
//!   `F + k` (imaginary parts) for the `F = L / 2 + 1` bins;
//! - the mel filterbank takes `sqrt` of each power bin and spreads bins `start..=end` over
//!   triangular channels on the mel scale `1127 ln(1 + f / 700)`, with TF's (HTK's) bin range
//!   and weights;
//! - the DCT is TF's unnormalised DCT-II scaled by `sqrt(2 / channels)`.

use super::value::Tensor;

fn sized(what: &str, rows: usize, cols: usize) -> Result<(), String> {
    if rows == 0 || cols == 0 || rows.checked_mul(cols).is_none_or(|n| n > 1 << 24) {
        return Err(format!("{what}: a {rows} x {cols} matrix is empty or too large"));
    }
    Ok(())
}

/// TF's FFT length for a window: the next power of two (`NextPowerOfTwo`).
pub fn fft_length(window: usize) -> usize {
    window.max(1).next_power_of_two()
}

/// `[2F, window]`: the Hann-windowed real DFT of length `fft_length(window)`, `F` real parts
/// then `F` imaginary parts.
pub fn spectrogram_matrix(window: usize) -> Result<Tensor, String> {
    let len = fft_length(window);
    let bins = len / 2 + 1;
    sized("spectrogram_matrix", 2 * bins, window)?;
    let hann: Vec<f64> = (0..window).map(|n| 0.5 - 0.5 * (std::f64::consts::TAU * n as f64 / window as f64).cos()).collect();
    let mut data = vec![0f32; 2 * bins * window];
    for k in 0..bins {
        for (n, w) in hann.iter().enumerate() {
            // k * n mod len keeps the angle small (exact for the integer product).
            let phase = std::f64::consts::TAU * ((k * n) % len) as f64 / len as f64;
            data[k * window + n] = (w * phase.cos()) as f32;
            data[(bins + k) * window + n] = (-w * phase.sin()) as f32;
        }
    }
    Ok(Tensor::from_f32(vec![2 * bins, window], data))
}

fn freq_to_mel(f: f64) -> f64 {
    1127.0 * (f / 700.0).ln_1p()
}

/// `[channels, bins]`: TF's mel filterbank on `bins` spectrogram bins (applied to their
/// square roots).
pub fn mel_filterbank(bins: usize, sample_rate: f64, lower: f64, upper: f64, channels: usize) -> Result<Tensor, String> {
    if channels < 1 || sample_rate <= 0.0 || bins < 2 || lower < 0.0 || upper <= lower {
        return Err(format!(
            "mel_filterbank: invalid arguments ({bins} bins, rate {sample_rate}, {lower}..{upper} Hz, {channels} channels)"
        ));
    }
    sized("mel_filterbank", channels, bins)?;
    let (mel_low, mel_high) = (freq_to_mel(lower), freq_to_mel(upper));
    let spacing = (mel_high - mel_low) / (channels + 1) as f64;
    let centres: Vec<f64> = (0..=channels).map(|i| mel_low + spacing * (i + 1) as f64).collect();
    let hz_per_bin = 0.5 * sample_rate / (bins - 1) as f64;
    let start = (1.5 + lower / hz_per_bin) as usize;
    let end = (upper / hz_per_bin) as usize;
    if end >= bins {
        return Err(format!("mel_filterbank: upper frequency {upper} Hz lies above the Nyquist frequency {} Hz", 0.5 * sample_rate));
    }
    let mut data = vec![0f32; channels * bins];
    let mut channel = 0usize;
    for i in start..=end {
        let melf = freq_to_mel(i as f64 * hz_per_bin);
        while channel < channels && centres[channel] < melf {
            channel += 1;
        }
        // The bin's falling slope belongs to channel - 1 (if any), its rising slope to channel.
        let weight = if channel >= 1 {
            (centres[channel] - melf) / (centres[channel] - centres[channel - 1])
        } else {
            (centres[0] - melf) / (centres[0] - mel_low)
        };
        if channel >= 1 {
            data[(channel - 1) * bins + i] += weight as f32;
        }
        if channel < channels {
            data[channel * bins + i] += (1.0 - weight) as f32;
        }
    }
    Ok(Tensor::from_f32(vec![channels, bins], data))
}

/// `[coefficients, channels]`: TF's MFCC DCT, `sqrt(2 / channels) cos(pi i (j + 0.5) / channels)`.
pub fn mfcc_dct(channels: usize, coefficients: usize) -> Result<Tensor, String> {
    if coefficients > channels {
        return Err(format!("mfcc_dct: {coefficients} coefficients from {channels} channels"));
    }
    sized("mfcc_dct", coefficients, channels)?;
    let norm = (2.0 / channels as f64).sqrt();
    let arg = std::f64::consts::PI / channels as f64;
    let data = (0..coefficients)
        .flat_map(|i| (0..channels).map(move |j| (norm * (i as f64 * arg * (j as f64 + 0.5)).cos()) as f32))
        .collect();
    Ok(Tensor::from_f32(vec![coefficients, channels], data))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::value::TensorData;

    fn at(t: &Tensor, r: usize, c: usize) -> f32 {
        let TensorData::Float(v) = &t.data else { panic!("float") };
        v[r * t.shape[1] + c].0
    }

    #[test]
    fn spectrogram_of_a_constant_frame_is_the_window_sum() {
        let m = spectrogram_matrix(6).unwrap();
        assert_eq!(m.shape, vec![10, 6]); // L = 8, F = 5
        let dc: f32 = (0..6).map(|n| at(&m, 0, n)).sum();
        assert!((dc - 3.0).abs() < 1e-6, "{dc}"); // a periodic Hann window of 6 sums to 3
        assert!((0..6).all(|n| at(&m, 5, n) == 0.0)); // bin 0 has no imaginary part
    }

    #[test]
    fn filterbank_rows_are_triangles_and_dct_row_zero_is_flat() {
        let fb = mel_filterbank(129, 16000.0, 20.0, 4000.0, 10).unwrap();
        for c in 0..10 {
            let row: Vec<f32> = (0..129).map(|i| at(&fb, c, i)).collect();
            assert!(row.iter().all(|w| (0.0..=1.0).contains(w)) && row.iter().any(|w| *w > 0.0));
        }
        assert!(mel_filterbank(129, 16000.0, 20.0, 9000.0, 10).is_err());
        let d = mfcc_dct(10, 3).unwrap();
        assert!((0..10).all(|j| (at(&d, 0, j) - (0.2f32).sqrt()).abs() < 1e-6));
    }
}

package prompt

// Levels of spoken prompts.
const (
	// silenceRatio is what counts as silence at a prompt's ends: 40 dB
	// below its peak.
	silenceRatio = 100
	// edgeSamples is the silence kept at each end (40 ms), so prompts
	// played in sequence (a number read out) sound like one sentence.
	edgeSamples = 320
	// peakLevel is the peak spoken prompts are scaled to: -6 dBFS, which
	// puts speech near the -20 dBm0 the network expects.
	peakLevel = 16384
)

// tidy trims the silence at the ends of synthesized speech and scales it to
// peakLevel, in place; it returns the trimmed slice. Silence stays silence.
func tidy(s []int16) []int16 {
	peak := 0
	for _, v := range s {
		peak = max(peak, int(v), -int(v))
	}
	if peak == 0 {
		return s
	}
	first, last := -1, -1
	for i, v := range s {
		if a := max(int(v), -int(v)); a*silenceRatio > peak {
			if first < 0 {
				first = i
			}
			last = i
		}
	}
	s = s[max(first-edgeSamples, 0):min(last+edgeSamples+1, len(s))]
	gain := int32(peakLevel) << 15 / int32(peak) // Q15
	for i, v := range s {
		s[i] = int16(int32(v) * gain >> 15)
	}
	return s
}

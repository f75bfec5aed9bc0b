// Package pcm is the audio path between the analog line chips and the
// media engine: 10 ms frames of 80 linear 16-bit samples at 8 kHz per port
// and direction, carried on a PCM highway of 8-bit timeslots.
//
// # Model
//
// A Highway has Slots() 8-bit timeslots per 125 us frame, like an E1 or a
// ProSLIC/DAA PCM bus. Each chip sits at a timeslot and encodes its audio
// with the Codec set in its PCM mode register: G.711 A-law or mu-law in one
// timeslot, or 16-bit linear in two consecutive ones, most significant byte
// first. The media engine attaches a Port per line (Attach(slot, codec)),
// sets one Handler and runs the highway; every 10 ms the highway fills each
// Port's Received frame, calls the Handler with the Tick, and sends what the
// Handler gave each Port with Send (silence, counted as an underrun, when
// it gave nothing). The Handler is the media engine's frame clock. Nothing
// allocates per tick.
//
// Two highways implement it:
//
//   - Sim, in memory, for the simulated board: emulated chips implement
//     Endpoint (PCMRead/PCMWrite, their line side) and are plugged in with
//     Connect. Run paces ticks with a vclock.Clock (real time in make run,
//     virtual time in tests) and counts late ticks (overruns) and frames
//     dropped to catch up; Step processes one tick for tests that drive
//     frames themselves.
//   - ALSA, on hardware: the kernel's ALSA PCM interface driven with its
//     ioctls directly (no cgo, no library): HW_REFINE/HW_PARAMS with
//     RW_INTERLEAVED access, A_LAW or MU_LAW with one channel per 8-bit
//     timeslot, or S16_LE/S32_LE with one per 2/4 timeslots, 8000 Hz,
//     periods of 80 frames,
//     a ring of several periods; SW_PARAMS; PREPARE; READI_FRAMES and
//     WRITEI_FRAMES. The capture read paces the ticks. An xrun (-EPIPE) is
//     recovered by PREPARE and counted: capture overruns as Overruns and
//     Dropped, playback underruns as PlaybackXruns (the playback ring is
//     refilled with Prefill periods of silence).
//
// # Hardware set-up the ALSA highway expects
//
// One ALSA PCM device with both a capture and a playback stream,
// /dev/snd/pcmC<card>D<device>c and ...p (ParseDevice reads "hw:0,0" from
// a board description), whose DAI is clock master of the chips' PCM bus:
//
//   - frame sync 8 kHz, one short pulse per frame, DSP_A framing (data
//     starts one bit clock after the frame sync edge);
//   - bit clock = 8000 * bits per frame: 2.048 MHz for 32 timeslots of 8
//     bits, as E1 and DAHDI-style cards run it;
//   - each chip's PCM transmit/receive start counts set to 8 * its
//     timeslot (board.Port.PCMSlot), plus whatever offset its datasheet
//     asks for DSP_A's one-clock delay, and its PCM mode to the port's
//     Codec;
//   - the ALSA channels cover the timeslots the box uses, in order:
//     Slots channels of A_LAW/MU_LAW (8 bits), Slots/2 of S16_LE or
//     Slots/4 of S32_LE. The format only sets the channel width; ALSA does
//     no conversion here and each port's timeslots are decoded by its Codec.
//
// A TDM-capable DAI with 32 channels of 8 bits (an i.MX SAI, for one)
// gives the whole 2.048 MHz bus: Format ALaw, Slots 32.
//
// On a Raspberry Pi the PCM/I2S block is on GPIO18 PCM_CLK, GPIO19 PCM_FS,
// GPIO20 PCM_DIN (from the chips' DTX) and GPIO21 PCM_DOUT (to the chips'
// DRX), ALT0. Its ALSA driver, bcm2835-i2s, offers exactly 2 channels of
// S16_LE, S24_LE or S32_LE, placed in a longer frame with set_tdm_slot. Two
// 32-bit channels carry 8 timeslots of 8 bits, enough for a 2 FXS + 2 FXO
// board even in 16-bit linear: Format S32LE, Slots 8, on a 2.048 MHz bus
// of 8 slots of 32 bits with the Pi's channels in the first two:
//
//	/ {
//		codec_dummy: dummy-codec {
//			compatible = "linux,snd-soc-dummy"; /* the line chips need no ALSA codec driver */
//			#sound-dai-cells = <0>;
//		};
//		sound {
//			compatible = "simple-audio-card";
//			simple-audio-card,name = "callbox-tdm";
//			simple-audio-card,format = "dsp_a";
//			simple-audio-card,bitclock-master = <&dailink_cpu>;
//			simple-audio-card,frame-master = <&dailink_cpu>;
//			dailink_cpu: simple-audio-card,cpu {
//				sound-dai = <&i2s>;
//				dai-tdm-slot-num = <8>;
//				dai-tdm-slot-width = <32>;
//				dai-tdm-slot-tx-mask = <1 1 0 0 0 0 0 0>;
//				dai-tdm-slot-rx-mask = <1 1 0 0 0 0 0 0>;
//			};
//			simple-audio-card,codec {
//				sound-dai = <&codec_dummy>;
//			};
//		};
//	};
//	&gpio {
//		callbox_pcm_pins: callbox-pcm-pins {
//			brcm,pins = <18 19 20 21>;
//			brcm,function = <4>; /* ALT0 */
//		};
//	};
//	&i2s {
//		status = "okay";
//		pinctrl-names = "default";
//		pinctrl-0 = <&callbox_pcm_pins>;
//	};
//
// OpenALSA's error says what the device offers when it refuses the
// configuration (format, channel count, rate, period size).
//
// The ALSA highway's goroutine sleeps in the kernel for each period; Close
// (or cancelling Run's context) stops both streams to wake it. If the bus
// clock stops, the kernel gives up on a read after about 10 s (EIO) and Run
// returns that error.
package pcm

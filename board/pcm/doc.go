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
//     RW_INTERLEAVED access, S16_LE, A_LAW or MU_LAW, one channel per 8-bit
//     timeslot (one per pair with S16_LE), 8000 Hz, periods of 80 frames,
//     a ring of several periods; SW_PARAMS; PREPARE; READI_FRAMES and
//     WRITEI_FRAMES. The capture read paces the ticks. An xrun (-EPIPE) is
//     recovered by PREPARE and counted: capture overruns as Overruns and
//     Dropped, playback underruns as PlaybackXruns (the playback ring is
//     refilled with Prefill periods of silence).
//
// # Hardware set-up the ALSA highway expects
//
// One ALSA PCM device with both a capture and a playback stream,
// /dev/snd/pcmC<card>D<device>c and ...p, whose DAI runs the TDM bus of the
// line chips as clock master:
//
//   - frame sync 8 kHz, one short pulse per frame, in DSP_A framing (data
//     starts one bit clock after the frame sync edge);
//   - bit clock 2.048 MHz = 256 bit clocks per frame = 32 timeslots of 8
//     bits (Slots: 32), or 1.536 MHz / 24 slots, and so on;
//   - each chip's PCM transmit/receive start counts set to 8 * its
//     timeslot (board.Port.PCMSlot), plus whatever offset the chip's
//     datasheet asks for the DSP_A one-clock delay, and its PCM mode to the
//     port's Codec.
//
// On a Raspberry Pi (BCM2835 PCM/I2S block) that is the PCM pins, ALT0:
// PCM_CLK GPIO18, PCM_FS GPIO19, PCM_DIN GPIO20 (chips' DTX, into the Pi),
// PCM_DOUT GPIO21 (chips' DRX), with a device-tree overlay binding a
// simple-audio-card to the i2s node:
//
//	sound {
//		compatible = "simple-audio-card";
//		simple-audio-card,name = "callbox-tdm";
//		simple-audio-card,format = "dsp_a";
//		simple-audio-card,bitclock-master = <&dailink_cpu>;
//		simple-audio-card,frame-master = <&dailink_cpu>;
//		dailink_cpu: simple-audio-card,cpu {
//			sound-dai = <&i2s>;
//			dai-tdm-slot-num = <32>;
//			dai-tdm-slot-width = <8>;
//		};
//		simple-audio-card,codec {
//			sound-dai = <&codec_dummy>; /* the line chips need no ALSA codec driver */
//		};
//	};
//
// The BCM2835 DAI driver only accepts 16, 24 and 32-bit sample formats; an
// 8-bit A_LAW/MU_LAW stream needs a DAI that accepts it. With the stock
// driver use Format S16LE with 16 slots of 16 bits
// (dai-tdm-slot-num = <16>, dai-tdm-slot-width = <16>): the same 2.048 MHz
// bus, the same 32 timeslots of 8 bits (Slots: 32), each 16-bit channel
// carrying two of them, most significant first. OpenALSA's error says what
// the device offers when it refuses the configuration.
//
// The ALSA highway's goroutine sleeps in the kernel for each period; Close
// (or cancelling Run's context) stops both streams to wake it. If the bus
// clock stops, the kernel gives up on a read after about 10 s (EIO) and Run
// returns that error.
package pcm

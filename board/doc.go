// Package board is the root of callbox's line hardware: board descriptions,
// the ProSLIC FXS and Si3050 FXO drivers over periph.io SPI and GPIO, the PCM
// audio path, and register-level chip emulators (board/sim) so the same
// drivers run in simulation.
//
// board imports periph.io and dsp at most; it knows nothing of calls.
package board

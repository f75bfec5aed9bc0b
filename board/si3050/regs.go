package si3050

// Register numbers and bits of the Si3050 system-side chip, as named in its
// datasheet. Only what the driver uses is listed.
const (
	RegControl1   = 1  // SR (soft reset)
	RegControl2   = 2  // INTE, INTP, RDI; resets to 0x03
	RegIntMask    = 3  // interrupt mask, same bits as RegIntSource
	RegIntSource  = 4  // latched interrupts; a 0 written to a bit clears it
	RegDAACtrl1   = 5  // OH, ONHM, RDT, RDTP, RDTN
	RegDAACtrl2   = 6  // PDL (line side powered down) resets to 1
	RegRevision   = 11 // LSID (line-side ID, 0 while the link is down) and system-side REVA
	RegLineStatus = 12 // FDT, LCS (loop current, coarse)
	RegLineRev    = 13 // line-side revision in bits 5:2
	RegIntl1      = 16 // OHS, RZ, RT
	RegIntl3      = 18 // RFWE (full-wave ring detector)
	RegRingVal1   = 22 // ring validation: delay and maximum frequency
	RegRingVal2   = 23 // ring validation: timeout and confirmation count
	RegRingVal3   = 24 // ring validation enable and minimum frequency
	RegDCTerm     = 26 // DCV, MINI, ILIM
	RegLoopCur    = 28 // LCS2: loop current, 1.1 mA per LSB
	RegLineVolt   = 29 // LVS: line voltage, signed, 1 V per LSB
	RegACTerm     = 30 // ACIM
	RegDAACtrl5   = 31 // FULL, FOH, OHS2, FILT, LVFD
	RegPCMMode    = 33 // PCME and PCMF (law)
	RegTXStartLo  = 34 // PCM transmit start, in bit clocks
	RegTXStartHi  = 35
	RegRXStartLo  = 36 // PCM receive start, in bit clocks
	RegRXStartHi  = 37
)

// Register 1.
const (
	Control1SR = 0x80 // soft reset; clears itself
)

// Register 2 (reset value 0x03).
const (
	Control2Reset = 0x03
	Control2INTE  = 0x80 // drive the interrupt pin
	Control2INTP  = 0x40 // interrupt pin active high (left clear: active low, open drain)
	Control2RDI   = 0x04 // ring detect interrupts at the start and the end of a ring
)

// Interrupt bits of registers 3 (mask) and 4 (source).
const (
	IntRDT  = 0x80 // ring detect
	IntROV  = 0x40 // receive overload
	IntFDT  = 0x20 // frame detect (isolation link)
	IntBTD  = 0x10 // battery drop
	IntDOD  = 0x08 // drop-out (loop current lost while off-hook)
	IntLCSO = 0x04 // loop current sense overload
	IntTGD  = 0x02 // tip/ground detect
	IntPOL  = 0x01 // line polarity reversal
)

// Register 5.
const (
	DAA1RDTN = 0x40 // negative ring half-cycle detected
	DAA1RDTP = 0x20 // positive ring half-cycle detected
	DAA1ONHM = 0x08 // on-hook line monitor (caller ID receive path)
	DAA1RDT  = 0x04 // validated ring detect
	DAA1OH   = 0x01 // off-hook
	// DAA1Ring is the instantaneous ring detector: either half-cycle.
	DAA1Ring = DAA1RDTN | DAA1RDTP
	// OnHookMonitor is register 5 while idle: on-hook, caller ID path open.
	OnHookMonitor = DAA1ONHM
	// OffHook is register 5 while seized.
	OffHook = DAA1ONHM | DAA1OH
)

// Register 6.
const (
	DAA2PDL = 0x10 // line side powered down (reset value)
)

// Register 31: FULL clear, off-hook counter 128 ms (FOH = 01), FILT and
// LVFD set; OHS2 (bit 3) comes from the country.
const DAA5Base = 0xA3

// Register 33: PCM enable and format.
const (
	PCMEnable = 0x20
	PCMALaw   = 0x00
	PCMMuLaw  = 0x08
	PCMLinear = 0x18
)

// SPI control bytes (the chip select or daisy-chain address goes in the low
// bits).
const (
	CtrlWrite = 0x20
	CtrlRead  = 0x60
)

// Units of the measurement registers.
const (
	LoopCurrentLSB = 1.1 // mA per LSB of register 28
	LineVoltageLSB = 1.0 // V per LSB of register 29
)

// Line-side device IDs (register 11, bits 7:4).
const (
	LineSideSi3018 = 1
	LineSideSi3019 = 3
)

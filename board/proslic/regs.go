package proslic

// Direct registers of the Si3210/Si3215 (datasheet register map; DAHDI's
// proslic.h uses the same numbers).
const (
	regID         = 0  // part number [5:4], revision [3:0]
	regPCMMode    = 1  // PCM enable [5], format [4:3]; bit 7 reads 1 on a Si3215
	regTxStartLo  = 2  // PCM transmit start count, low byte
	regTxStartHi  = 3  // high bits
	regRxStartLo  = 4  // PCM receive start count, low byte
	regRxStartHi  = 5  // high bits
	regLoopback   = 8  // audio loopback; 0x02 after reset
	regHybrid     = 11 // hybrid; 0x33 after reset
	regPowerDown1 = 14 // bit 4 powers the DC-DC converter down
	regIntStatus1 = 18 // oscillator and ring timer interrupts (write 1 to clear)
	regIntStatus2 = 19 // ring trip [0], loop closure [1], power alarms Q1-Q6 [7:2]
	regIntStatus3 = 20 // DTMF [0], indirect [1], common-mode balance [2]
	regIntMask1   = 21
	regIntMask2   = 22
	regIntMask3   = 23
	regIDALo      = 28 // indirect data, low byte
	regIDAHi      = 29 // indirect data, high byte
	regIAA        = 30 // indirect address: writing it starts the access
	regIAS        = 31 // indirect access status: bit 0 busy
	regRingCtl    = 34 // ringing oscillator control (timers, waveform)
	regLinefeed   = 64 // commanded state [2:0], actual state [6:4]
	regAutoCtl    = 67 // automatic/manual control
	regLoopStatus = 68 // loop closure [0], ring trip [1]
	regBatFeed    = 66 // battery feed control (Q7)
	regILim       = 71 // loop current limit: 20 mA + 3 mA * value
	regVOC        = 72 // on-hook line voltage, 1.5 V/LSB
	regVBATH      = 74 // high battery voltage, 1.5 V/LSB
	regVBATL      = 75 // low battery voltage, 1.5 V/LSB
	regLoopISense = 79 // loop current, 1.1 mA/LSB
	regTipSense   = 80 // tip voltage magnitude, 376 mV/LSB
	regRingSense  = 81 // ring voltage magnitude, 376 mV/LSB
	regVBATSense  = 82 // high battery magnitude, 376 mV/LSB
	regDCDCPeriod = 92 // DC-DC PWM period
	regDCDC       = 93 // DC-DC control; bit 7 starts its calibration
	regCal1       = 96 // calibration start [6] and selection; reads 0 when done
	regCal2       = 97 // calibration selection
	regEnhance    = 108
)

// Register bits and scalings.
const (
	pdDCDC     = 0x10 // regPowerDown1: DC-DC converter off
	iasBusy    = 0x01 // regIAS
	lsLCR      = 0x01 // regLoopStatus: loop closed (off hook)
	lsRTP      = 0x02 // regLoopStatus: ring trip (off hook while ringing)
	int2RTIP   = 0x01 // regIntStatus2: ring trip
	int2LCIP   = 0x02 // regIntStatus2: loop closure change
	int2Alarms = 0xFC // regIntStatus2: power alarms of transistors Q1..Q6
	si3215Flag = 0x80 // regPCMMode bit that reads 1 on a Si3215
	calStart   = 0x40 // regCal1
	calAll     = 0x1F // regCal1/regCal2: every calibration
	dcdcCal    = 0x80 // regDCDC

	mvPerLSB     = 376  // regTip/Ring/VBATSense
	uaPerLSB     = 1100 // regLoopISense
	batPerLSBmV  = 1500 // regVBATH, regVBATL, regVOC
	maxBatteryV  = 94.5 // largest VBATH the chip generates
	ringFullV    = 96.0 // ring oscillator full-scale voltage
	ringSampleHz = 1000 // the ring oscillator runs at 1 kHz
)

// indirect is one indirect register of the bring-up table. Si3215 maps most
// of them at other addresses (alt); alt 0xFF means the Si3215 does not have
// it (the DTMF decoder registers of the Si3210).
type indirect struct {
	name      string
	addr, alt byte
	value     uint16
}

// Indirect registers used by the driver besides the table.
const (
	iRingOffset = 19 // ROFF
	iRingCoef   = 20 // RCO
	iRingX      = 21 // RNGX: amplitude
	iRingY      = 22 // RNGY: initial phase
	iRingTrip   = 29 // RPTP: ring trip threshold
)

// indirectTable holds the datasheet's recommended start-up values, in the
// order they are loaded. The ring generator entries are overwritten from the
// country preset after calibration.
var indirectTable = []indirect{
	{"DTMF_ROW0_PEAK", 0, 0xFF, 0x55C2},
	{"DTMF_ROW1_PEAK", 1, 0xFF, 0x51E6},
	{"DTMF_ROW2_PEAK", 2, 0xFF, 0x4B85},
	{"DTMF_ROW3_PEAK", 3, 0xFF, 0x4937},
	{"DTMF_COL_PEAK", 4, 0xFF, 0x3333},
	{"DTMF_FWD_TWIST", 5, 0xFF, 0x0202},
	{"DTMF_RVS_TWIST", 6, 0xFF, 0x0202},
	{"DTMF_ROW_RATIO", 7, 0xFF, 0x0198},
	{"DTMF_COL_RATIO", 8, 0xFF, 0x0198},
	{"DTMF_ROW_2ND_HARM", 9, 0xFF, 0x0611},
	{"DTMF_COL_2ND_HARM", 10, 0xFF, 0x0202},
	{"DTMF_PWR_MIN", 11, 0xFF, 0x00E5},
	{"DTMF_HOT_LIM", 12, 0xFF, 0x0A1C},
	{"OSC1_COEF", 13, 0, 0x7B30},
	{"OSC1X", 14, 1, 0x0063},
	{"OSC1Y", 15, 2, 0x0000},
	{"OSC2_COEF", 16, 3, 0x7870},
	{"OSC2X", 17, 4, 0x007D},
	{"OSC2Y", 18, 5, 0x0000},
	{"RING_V_OFF", 19, 6, 0x0000},
	{"RING_OSC", 20, 7, 0x7EF0},
	{"RING_X", 21, 8, 0x0160},
	{"RING_Y", 22, 9, 0x0000},
	{"PULSE_ENVEL", 23, 0xFF, 0x2000},
	{"PULSE_X", 24, 0xFF, 0x2000},
	{"PULSE_Y", 25, 0xFF, 0x0000},
	{"RECV_DIGITAL_GAIN", 26, 13, 0x4000},
	{"XMIT_DIGITAL_GAIN", 27, 14, 0x4000},
	{"LOOP_CLOSE_THRESH", 28, 15, 0x1000},
	{"RING_TRIP_THRESH", 29, 16, 0x3600},
	{"COMMON_MIN_THRESH", 30, 17, 0x1000},
	{"COMMON_MAX_THRESH", 31, 18, 0x0200},
	{"PWR_ALARM_Q1Q2", 32, 19, 0x07C0},
	{"PWR_ALARM_Q3Q4", 33, 20, 0x2600},
	{"PWR_ALARM_Q5Q6", 34, 21, 0x1B80},
	{"LOOP_CLOSURE_FILTER", 35, 22, 0x8000},
	{"RING_TRIP_FILTER", 36, 23, 0x0320},
	{"THERM_LP_POLE_Q1Q2", 37, 24, 0x008C},
	{"THERM_LP_POLE_Q3Q4", 38, 25, 0x0100},
	{"THERM_LP_POLE_Q5Q6", 39, 26, 0x0010},
	{"CM_BIAS_RINGING", 40, 27, 0x0C00},
	{"DCDC_MIN_V", 41, 64, 0x0C00},
	{"DCDC_XTRA", 42, 0xFF, 0x1000},
	{"LOOP_CLOSE_THRESH_LOW", 43, 66, 0x1000},
}

// IndirectAddr returns where indirect register addr (Si3210 numbering)
// lives on the given part, and false if that part does not have it.
func IndirectAddr(part Part, addr byte) (byte, bool) {
	if part != Si3215 {
		return addr, true
	}
	for _, r := range indirectTable {
		if r.addr == addr {
			return r.alt, r.alt != 0xFF
		}
	}
	return addr, true
}

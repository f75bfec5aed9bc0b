package line

// CallerIDFrames is how many frames c's caller ID receivers analysed.
func CallerIDFrames(c *FXO) uint64 { return c.cidFrames }

package flash

import (
	"errors"
	"fmt"
	"slices"
	"sort"
)

// MiB is a mebibyte; layouts are aligned to it.
const MiB = 1 << 20

// Partition is one region of the boot medium.
type Partition struct {
	// Name is the partition's role: "boot", "rootfs-a", "rootfs-b", "data".
	Name string
	// Label is the filesystem label the image and mounts use.
	Label string
	// Slot is "A" or "B" for a slot partition, "" for shared ones.
	Slot string
	// Image is the bundle image written into this partition ("rootfs"),
	// for slot partitions.
	Image string
	// FS is the filesystem: "vfat", "ext4".
	FS string
	// Offset and Size in bytes; Size 0 on the last partition takes the
	// rest of the medium.
	Offset, Size int64
	// Number is the partition's number in the MBR table (1-based).
	Number int
}

// Layout is a board's boot medium: where U-Boot keeps its environment and
// which partitions hold what. Updates write only slot partitions (and the
// environment); the data partition holds the store, recordings and
// prompts and is never touched by an update.
type Layout struct {
	// Board is the name bundles list in their manifest's compatible.
	Board string
	// Disk is the boot medium's device on the running box.
	Disk string
	// PartitionDevice formats a partition's device from Disk and the
	// partition number ("%sp%d" for /dev/mmcblk0p2, "%s%d" for /dev/vda2).
	PartitionDevice string
	// EnvOffsets and EnvSize place the two U-Boot environment copies on the
	// medium, before the first partition (U-Boot's CONFIG_ENV_OFFSET and
	// CONFIG_ENV_OFFSET_REDUND, CONFIG_ENV_SIZE).
	EnvOffsets [2]int64
	EnvSize    int64
	// Parts in medium order.
	Parts []Partition
}

// layouts are the boards this firmware knows. The two share the layout;
// only the medium's device names differ.
var layouts = map[string]Layout{
	"rpi4-callbox": commonLayout("rpi4-callbox", "/dev/mmcblk0", "%sp%d"),
	"qemu-armv7":   commonLayout("qemu-armv7", "/dev/vda", "%s%d"),
}

// commonLayout: 4 MiB for the partition table and the two 16 KiB
// environment copies at 4 MiB and 4 MiB + 16 KiB, a 64 MiB FAT boot
// partition at 8 MiB (the Raspberry Pi firmware, U-Boot and its boot
// script), two 384 MiB ext4 root filesystems (each with its kernel and
// device trees in /boot, so an update never writes the shared boot
// partition), and the data partition over the rest.
func commonLayout(board, disk, partdev string) Layout {
	return Layout{
		Board: board, Disk: disk, PartitionDevice: partdev,
		EnvOffsets: [2]int64{4 * MiB, 4*MiB + 16<<10}, EnvSize: 16 << 10,
		Parts: []Partition{
			{Name: "boot", Label: "boot", FS: "vfat", Offset: 8 * MiB, Size: 64 * MiB, Number: 1},
			{Name: "rootfs-a", Label: "rootfs-a", Slot: "A", Image: "rootfs", FS: "ext4", Offset: 72 * MiB, Size: 384 * MiB, Number: 2},
			{Name: "rootfs-b", Label: "rootfs-b", Slot: "B", Image: "rootfs", FS: "ext4", Offset: 456 * MiB, Size: 384 * MiB, Number: 3},
			{Name: "data", Label: "data", FS: "ext4", Offset: 840 * MiB, Number: 4},
		},
	}
}

// LayoutFor returns the layout of a board.
func LayoutFor(board string) (Layout, error) {
	l, ok := layouts[board]
	if !ok {
		return Layout{}, fmt.Errorf("flash: no layout for board %q (known: %v)", board, Boards())
	}
	l.Parts = slices.Clone(l.Parts)
	return l, nil
}

// Boards lists the boards with a layout.
func Boards() []string {
	var out []string
	for b := range layouts {
		out = append(out, b)
	}
	sort.Strings(out)
	return out
}

// SlotPartition returns the partition that receives image in slot.
func (l Layout) SlotPartition(slot, image string) (Partition, error) {
	for _, p := range l.Parts {
		if p.Slot == slot && p.Image == image {
			return p, nil
		}
	}
	return Partition{}, fmt.Errorf("flash: board %s has no %q image in slot %s", l.Board, image, slot)
}

// Device returns partition p's device path on the running box.
func (l Layout) Device(p Partition) string { return fmt.Sprintf(l.PartitionDevice, l.Disk, p.Number) }

// EnvStore returns the environment store on the medium at path (the disk
// device, or an image file of it).
func (l Layout) EnvStore(path string) EnvStore {
	return EnvStore{Path: path, Offsets: l.EnvOffsets[:], Size: l.EnvSize}
}

// Validate checks the layout: aligned, in order, no overlaps, the
// environment before the first partition, both slots with the same images.
func (l Layout) Validate() error {
	if len(l.Parts) == 0 {
		return errors.New("flash: layout: no partitions")
	}
	envEnd := max(l.EnvOffsets[0], l.EnvOffsets[1]) + l.EnvSize
	if l.EnvOffsets[0]+l.EnvSize > l.EnvOffsets[1] && l.EnvOffsets[1]+l.EnvSize > l.EnvOffsets[0] {
		return errors.New("flash: layout: the two environment copies overlap")
	}
	if min(l.EnvOffsets[0], l.EnvOffsets[1]) < 1*MiB/2 {
		return errors.New("flash: layout: environment inside the partition table's first 512 KiB")
	}
	end := envEnd
	images := map[string][]string{}
	for i, p := range l.Parts {
		switch {
		case p.Offset%MiB != 0 || p.Size%MiB != 0:
			return fmt.Errorf("flash: layout: %s not aligned to 1 MiB", p.Name)
		case p.Offset < end:
			return fmt.Errorf("flash: layout: %s starts at %d, inside what comes before (ends %d)", p.Name, p.Offset, end)
		case p.Size == 0 && i != len(l.Parts)-1:
			return fmt.Errorf("flash: layout: %s: only the last partition may take the rest", p.Name)
		case p.Number != i+1:
			return fmt.Errorf("flash: layout: %s is number %d, want %d", p.Name, p.Number, i+1)
		case p.Slot != "" && !ValidSlot(p.Slot):
			return fmt.Errorf("flash: layout: %s: slot %q", p.Name, p.Slot)
		case (p.Slot == "") != (p.Image == ""):
			return fmt.Errorf("flash: layout: %s: a slot partition names its image, others none", p.Name)
		}
		end = p.Offset + p.Size
		if p.Slot != "" {
			images[p.Slot] = append(images[p.Slot], p.Image)
		}
	}
	if !slices.Equal(images["A"], images["B"]) || len(images["A"]) == 0 {
		return fmt.Errorf("flash: layout: slots A %v and B %v must hold the same images", images["A"], images["B"])
	}
	return nil
}

//! What the disk image looks like, checked before QEMU starts: a file QEMU
//! cannot boot would otherwise sit at the BIOS, silently, until the time
//! limit.
//!
//! Haiku's build makes two bootable raw layouts (build/scripts/
//! build_haiku_image and build/jam/images/AnybootImage):
//!
//! - `haiku.image`: a whole-disk BFS volume (`bfs_shell --initialize`) that
//!   `makebootable` gives a BIOS boot block. Its first sector ends with the
//!   boot signature 0x55 0xAA; the BFS superblock starts at byte 512, its
//!   `magic1` (0x42465331, "BFS1", little-endian on x86) at byte 544.
//! - the anyboot image: an MBR (base_mbr.bin, boot signature at byte 510)
//!   whose partition table holds the ISO, EFI and BFS partitions, the BFS
//!   one with partition type 0xEB.
//!
//! A raw file without the boot signature is refused. A boot sector with
//! neither layout boots, with a note (the runner's own tests boot a bare
//! boot sector). Other QEMU formats are checked for their magic where it is
//! well known (qcow2, vmdk) and otherwise only for being non-empty.

use std::io::Read;
use std::path::Path;

/// The sector size the checks assume.
pub const SECTOR: u64 = 512;

/// Byte offset of the BIOS boot signature (0x55 0xAA).
const SIGNATURE_AT: usize = 510;

/// Byte offset of a whole-disk BFS volume's `magic1`: superblock at 512,
/// after its 32-byte name.
const BFS_MAGIC_AT: usize = 512 + 32;

/// `SUPER_BLOCK_MAGIC1` ("BFS1") as stored on a little-endian volume.
const BFS_MAGIC_LE: [u8; 4] = 0x4246_5331u32.to_le_bytes();

/// The MBR partition type of a BeOS/Haiku BFS partition.
const MBR_TYPE_BFS: u8 = 0xeb;

/// The MBR partition type of a GPT protective partition.
const MBR_TYPE_GPT: u8 = 0xee;

/// The layout found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// A whole-disk BFS volume with a boot block (`haiku.image`).
    BootableBfs,
    /// An MBR with a BFS partition (the anyboot image, or an installed disk).
    MbrWithBfs,
    /// A GPT disk (protective MBR): booted as it is.
    Gpt,
    /// A boot sector with no Haiku layout.
    BootSectorOnly,
    /// A non-raw format, checked only for its magic or size.
    Other,
}

/// Checks the image at `path` in QEMU format `format` before a boot.
///
/// `Ok(notes)`: QEMU may boot it; the notes (possibly none) say what is
/// unusual. `Err(reason)`: it cannot boot, and why, for
/// [`QemuError::Image`](super::QemuError::Image).
pub fn check(path: &Path, format: &str) -> Result<(Layout, Vec<String>), String> {
    let meta = std::fs::metadata(path).map_err(|e| e.to_string())?;
    if !meta.is_file() {
        return Err("not a regular file".to_string());
    }
    let len = meta.len();
    if len == 0 {
        return Err("is empty (0 bytes): the build did not write it".to_string());
    }
    let mut head = Vec::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(4096).read_to_end(&mut head))
        .map_err(|e| format!("cannot be read: {e}"))?;
    match format {
        "raw" => check_raw(len, &head),
        "qcow2" => magic(&head, b"QFI\xfb", "qcow2"),
        "vmdk" => magic(&head, b"KDMV", "vmdk (Haiku's haiku.vmdk)"),
        _ => Ok((Layout::Other, Vec::new())),
    }
}

fn magic(head: &[u8], magic: &[u8], what: &str) -> Result<(Layout, Vec<String>), String> {
    if head.starts_with(magic) {
        Ok((Layout::Other, Vec::new()))
    } else {
        Err(format!(
            "does not start with the {what} magic; pass the image's real format with --format \
             (Haiku's haiku.image and anyboot images are raw)"
        ))
    }
}

fn check_raw(len: u64, head: &[u8]) -> Result<(Layout, Vec<String>), String> {
    if len < SECTOR {
        return Err(format!(
            "is {len} bytes, less than one {SECTOR}-byte sector: not a disk image"
        ));
    }
    if head.get(SIGNATURE_AT..SIGNATURE_AT + 2) != Some(&[0x55, 0xaa]) {
        return Err(format!(
            "has no boot signature (0x55 0xAA at byte {SIGNATURE_AT}): it is neither a \
             bootable haiku.image (BFS volume made bootable by makebootable) nor an anyboot \
             image (MBR), and QEMU would wait at the BIOS until the time limit"
        ));
    }
    if head.get(BFS_MAGIC_AT..BFS_MAGIC_AT + 4) == Some(&BFS_MAGIC_LE) {
        return Ok((Layout::BootableBfs, Vec::new()));
    }
    let types: Vec<u8> = (0..4).map(|i| head[446 + 16 * i + 4]).collect();
    if types.contains(&MBR_TYPE_BFS) {
        return Ok((Layout::MbrWithBfs, Vec::new()));
    }
    if types.contains(&MBR_TYPE_GPT) {
        return Ok((Layout::Gpt, Vec::new()));
    }
    Ok((
        Layout::BootSectorOnly,
        vec![format!(
            "the image has a boot sector but neither a BFS volume at its start (haiku.image) \
             nor a BFS partition (type 0x{MBR_TYPE_BFS:02x}, anyboot): it is not a Haiku \
             image; booting it anyway"
        )],
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sector(sig: bool) -> Vec<u8> {
        let mut s = vec![0u8; 2048];
        if sig {
            s[510] = 0x55;
            s[511] = 0xaa;
        }
        s
    }

    #[test]
    fn layouts() {
        assert!(check_raw(0x100, &sector(true)).is_err());
        assert!(check_raw(2048, &sector(false))
            .unwrap_err()
            .contains("no boot signature"));
        let mut bfs = sector(true);
        bfs[544..548].copy_from_slice(b"1SFB");
        assert_eq!(check_raw(2048, &bfs).unwrap().0, Layout::BootableBfs);
        let mut mbr = sector(true);
        mbr[446 + 16 * 2 + 4] = 0xeb;
        assert_eq!(check_raw(2048, &mbr).unwrap().0, Layout::MbrWithBfs);
        let (layout, notes) = check_raw(2048, &sector(true)).unwrap();
        assert_eq!(layout, Layout::BootSectorOnly);
        assert!(notes[0].contains("not a Haiku image"));
    }

    #[test]
    fn formats_with_magic() {
        assert!(magic(b"QFI\xfb....", b"QFI\xfb", "qcow2").is_ok());
        assert!(magic(b"\0\0\0\0", b"KDMV", "vmdk")
            .unwrap_err()
            .contains("--format"));
    }
}

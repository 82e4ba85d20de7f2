# The VCN appliance image: Debian's packer 1.6.6 with its built-in qemu builder.
# `npm run image` (image/build.sh) makes the inputs in .image/ and runs this:
#   .image/base/base.qcow2   minimal bookworm disk with sshd (image/build-base.sh)
#   .image/base/debs/        the appliance's Debian packages, installed offline
#   .image/bundle.tar        the compiled app, native modules, node, units (image/bundle.sh)
# Gotchas of 1.6.6 (shared/notes): use_backing_file=false (true needs a backing
# format newer qemu-img insists on), skip_resize_disk (else disk_size resizes the
# copy to 40 GiB), iso_checksum="none" for a local file, no `packer init`.

variable "work" {
  type    = string
  default = ".image"
}

variable "accelerator" {
  # kvm when /dev/kvm exists; image/build.sh passes tcg otherwise (slow but works)
  type    = string
  default = "kvm"
}

variable "ssh_timeout" {
  type    = string
  default = "15m"
}

source "qemu" "vcn" {
  iso_url          = "file://${abspath(var.work)}/base/base.qcow2"
  iso_checksum     = "none"
  disk_image       = true
  use_backing_file = false
  skip_resize_disk = true
  format           = "raw"
  disk_interface   = "virtio"
  disk_discard     = "unmap"
  net_device       = "virtio-net"
  accelerator      = var.accelerator
  headless         = true
  memory           = 1024
  cpus             = 1
  output_directory = "${var.work}/packer-out"
  vm_name          = "vcn-appliance.raw"
  qemuargs         = [["-serial", "file:${var.work}/packer-serial.log"]]
  boot_wait        = "1s"

  communicator         = "ssh"
  ssh_username         = "root"
  ssh_private_key_file = "${var.work}/base/packer_key"
  ssh_timeout          = var.ssh_timeout
  # The last provisioning step runs as the shutdown command, while sshd still
  # serves the session: it removes sshd and the build key, clears per-machine
  # identities and powers the VM off (image/provision/finalize.sh).
  shutdown_command = "sh /tmp/vcn-finalize.sh"
  shutdown_timeout = "10m"
}

build {
  sources = ["source.qemu.vcn"]

  provisioner "file" {
    # no trailing slash: the folder itself lands as /tmp/debs
    source      = "${var.work}/base/debs"
    destination = "/tmp"
  }
  provisioner "file" {
    source      = "image/packages-appliance.txt"
    destination = "/tmp/vcn-packages.txt"
  }
  provisioner "shell" {
    script = "image/provision/packages.sh"
  }

  provisioner "file" {
    source      = "${var.work}/bundle.tar"
    destination = "/tmp/vcn-bundle.tar"
  }
  provisioner "shell" {
    script = "image/provision/app.sh"
  }

  provisioner "file" {
    source      = "image/provision/finalize.sh"
    destination = "/tmp/vcn-finalize.sh"
  }
}

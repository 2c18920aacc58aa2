# Lava worker AMI: Amazon Linux 2023 (x86_64 or arm64) with what lava jobs use on a worker host
# (database clients, docker, CloudWatch and SSM agents, database CA certificates) and the rc.d
# user-data machinery that starts the lava boot chain. Lava itself is not baked in: the boot chain
# installs the bundle named in the realms table at every boot.
#
#   packer build -var arch=arm64 -var lava_version=0.1.0 -var bun_version=1.4.5 \
#       -var subnet=subnet-… -var security_group_ids=sg-… -var region=… -var tz=Australia/Sydney \
#       -var s3bucket=my-code-bucket -var s3prefix=lava/_ami_ packer/
#
# Run from the repository root (the template reads boot/ami and packer/).

variable "arch" {
  type        = string
  default     = "x86_64"
  description = "CPU architecture of the AMI: x86_64 or arm64 (never aarch64 in AMI names)."
  validation {
    condition     = contains(["x86_64", "arm64"], var.arch)
    error_message = "The arch must be x86_64 or arm64."
  }
}

variable "lava_version" {
  type        = string
  description = "Lava version the AMI is built for (the AMI works with any bundle version)."
}

variable "bun_version" {
  type        = string
  description = "Bun version the lava executables of this release are compiled with; identifies the runtime."
}

variable "region" {
  type        = string
  default     = "ap-southeast-2"
  description = "AWS region of the build."
}

variable "ami_id" {
  type        = string
  default     = ""
  description = "Base AMI id. Empty: the newest Amazon Linux 2023 AMI of the architecture, owned by Amazon."
}

variable "instance_type" {
  type        = string
  default     = ""
  description = "Build instance type. Empty: t3.large for x86_64, t4g.large for arm64."
}

variable "ip" {
  type        = string
  default     = "private"
  description = "Address packer uses to reach the build instance: public or private."
  validation {
    condition     = contains(["public", "private"], var.ip)
    error_message = "The ip must be public or private."
  }
}

variable "subnet" {
  type        = string
  description = "Subnet of the build instance."
}

variable "security_group_ids" {
  type        = list(string)
  description = "Security groups of the build instance."
}

variable "s3bucket" {
  type        = string
  default     = ""
  description = "Bucket with large build inputs (Oracle instant client zips). Empty: Oracle clients are skipped."
}

variable "s3prefix" {
  type        = string
  default     = ""
  description = "Prefix of the build inputs in s3bucket, ending with /."
}

variable "tz" {
  type        = string
  default     = "UTC"
  description = "Time zone of instances started from the AMI (e.g. Australia/Sydney)."
}

variable "repo" {
  type        = string
  default     = "lava"
  description = "Source repository recorded in the Repo tag."
}

locals {
  os            = "amzn2023"
  timestamp     = formatdate("YYYY-MM-DD'T'hh-mm-ss'Z'", timestamp())
  ami_name      = "lava-${var.lava_version}-${local.os}-bun${var.bun_version}-${var.arch}-${local.timestamp}"
  instance_type = var.instance_type != "" ? var.instance_type : (var.arch == "arm64" ? "t4g.large" : "t3.large")
  base_filter   = var.ami_id == "" ? ["al2023-ami-2023.*-kernel-*-${var.arch}"] : []
}

source "amazon-ebs" "lava" {
  region                      = var.region
  instance_type               = local.instance_type
  subnet_id                   = var.subnet
  security_group_ids          = var.security_group_ids
  associate_public_ip_address = var.ip == "public"
  ssh_interface               = "${var.ip}_ip"
  ssh_username                = "ec2-user"
  ssh_pty                     = true
  encrypt_boot                = true

  source_ami = var.ami_id
  dynamic "source_ami_filter" {
    for_each = local.base_filter
    content {
      owners      = ["amazon"]
      most_recent = true
      filters = {
        name                = source_ami_filter.value
        architecture        = var.arch
        virtualization-type = "hvm"
        root-device-type    = "ebs"
      }
    }
  }

  ami_name        = local.ami_name
  ami_description = "Lava worker AMI for lava ${var.lava_version} (bun ${var.bun_version}, ${var.arch})"
  tags = {
    Name        = local.ami_name
    OS          = local.os
    Repo        = var.repo
    SourceAmi   = "{{ .SourceAMI }}"
    LavaVersion = var.lava_version
    BunVersion  = var.bun_version
    Arch        = var.arch
  }

  # The build instance reads the Oracle zips from the build-input bucket.
  temporary_iam_instance_profile_policy_document {
    Version = "2012-10-17"
    Statement {
      Effect   = "Allow"
      Action   = ["s3:ListBucket"]
      Resource = ["arn:aws:s3:::${var.s3bucket != "" ? var.s3bucket : "none"}"]
    }
    Statement {
      Effect   = "Allow"
      Action   = ["s3:GetObject"]
      Resource = ["arn:aws:s3:::${var.s3bucket != "" ? var.s3bucket : "none"}/${var.s3prefix}*"]
    }
  }
}

build {
  sources = ["source.amazon-ebs.lava"]

  provisioner "shell" {
    inline = ["mkdir -p /tmp/lava-ami/boot"]
  }

  # Our build scripts and resources, and the other half of the boot chain: the rc.d user-data
  # scripts, rc.local and their helpers from boot/ami.
  provisioner "file" {
    source      = "packer/conf.d"
    destination = "/tmp/lava-ami"
  }
  provisioner "file" {
    source      = "packer/resources"
    destination = "/tmp/lava-ami"
  }
  provisioner "file" {
    source      = "boot/ami/"
    destination = "/tmp/lava-ami/boot"
  }

  provisioner "shell" {
    script = "packer/ami-build.sh"
    environment_vars = [
      "AMI_OS=${local.os}",
      "AMI_ARCH=${var.arch}",
      "LAVA_VERSION=${var.lava_version}",
      "BUN_VERSION=${var.bun_version}",
      "TIMEZONE=${var.tz}",
      "S3BUCKET=${var.s3bucket}",
      "S3PREFIX=${var.s3prefix}",
      "AWS_DEFAULT_REGION=${var.region}",
      "AMI_BASE={{ .SourceAMI }}",
    ]
  }

  provisioner "shell" {
    expect_disconnect = true
    inline            = ["sudo systemctl reboot"]
  }

  provisioner "shell" {
    pause_before = "60s"
    inline = [
      "test -x /etc/rc.d/rc.local",
      "rm -f ~/.ssh/authorized_keys",
      "logger -s -t lava-ami -p local0.notice 'lava AMI build complete'",
    ]
  }

  post-processor "manifest" {
    output     = "dist/ami/packer-manifest.json"
    strip_path = true
    custom_data = {
      OS          = local.os
      Arch        = var.arch
      Repo        = var.repo
      LavaVersion = var.lava_version
      BunVersion  = var.bun_version
    }
  }
}

//! What `keysweep image REF` accepts: the forms of REF and of `--platform`.

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

use oci_spec::distribution::Reference;

use super::Error;

/// One image to scan, as named on the command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImageRef {
    /// `oci:DIR[:TAG]`: an OCI image layout directory, optionally one tagged image in it.
    OciDir {
        /// The layout directory.
        dir: PathBuf,
        /// The `org.opencontainers.image.ref.name` to pick.
        tag: Option<String>,
    },
    /// `docker-archive:FILE`: the output of `docker save` (legacy or OCI flavour).
    DockerArchive {
        /// The tar file.
        path: PathBuf,
    },
    /// `docker-archive:-`: the output of `docker save` on standard input.
    DockerArchiveStdin,
    /// `docker-daemon:NAME[:TAG]`: an image of the local Docker Engine, read over its API.
    DockerDaemon {
        /// The image as the engine names it (`app:1.0`, `registry/app`, an image id).
        name: String,
    },
    /// `[REGISTRY/]REPO[:TAG|@DIGEST]` (or `docker://...`): pulled over the distribution API.
    Registry(Box<Reference>),
}

impl ImageRef {
    /// Parses one REF.
    ///
    /// # Errors
    /// [`Error::Reference`] when REF is none of the accepted forms.
    pub fn parse(text: &str) -> Result<ImageRef, Error> {
        let bad = |why: &str| Error::Reference { reference: text.to_string(), why: why.into() };
        if let Some(rest) = text.strip_prefix("oci:") {
            let (dir, tag) = match rest.rsplit_once(':') {
                Some((dir, tag)) if !dir.is_empty() && !tag.is_empty() && !tag.contains('/') => {
                    (dir, Some(tag.to_string()))
                }
                _ => (rest, None),
            };
            if dir.is_empty() {
                return Err(bad("oci: wants a directory (oci:DIR[:TAG])"));
            }
            return Ok(ImageRef::OciDir { dir: PathBuf::from(dir), tag });
        }
        if let Some(path) = text.strip_prefix("docker-archive:") {
            if path.is_empty() {
                return Err(bad("docker-archive: wants a file (docker-archive:FILE.tar)"));
            }
            if path == "-" {
                return Ok(ImageRef::DockerArchiveStdin);
            }
            return Ok(ImageRef::DockerArchive { path: PathBuf::from(path) });
        }
        if let Some(name) = text.strip_prefix("docker-daemon:") {
            if name.is_empty() || name.contains(char::is_whitespace) {
                return Err(bad("docker-daemon: wants an image name (docker-daemon:NAME[:TAG])"));
            }
            return Ok(ImageRef::DockerDaemon { name: name.to_string() });
        }
        let name = text.strip_prefix("docker://").unwrap_or(text);
        let reference = Reference::from_str(name).map_err(|e| bad(&e.to_string()))?;
        Ok(ImageRef::Registry(Box::new(reference)))
    }
}

impl fmt::Display for ImageRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ImageRef::OciDir { dir, tag: None } => write!(f, "oci:{}", dir.display()),
            ImageRef::OciDir { dir, tag: Some(tag) } => write!(f, "oci:{}:{tag}", dir.display()),
            ImageRef::DockerArchive { path } => write!(f, "docker-archive:{}", path.display()),
            ImageRef::DockerArchiveStdin => write!(f, "docker-archive:-"),
            ImageRef::DockerDaemon { name } => write!(f, "docker-daemon:{name}"),
            ImageRef::Registry(reference) => write!(f, "{reference}"),
        }
    }
}

/// A platform: `os/arch[/variant]`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Platform {
    /// `linux`, `windows`, ...
    pub os: String,
    /// `amd64`, `arm64`, ...
    pub arch: String,
    /// `v7`, `v8`, ...
    pub variant: Option<String>,
}

impl Platform {
    /// Whether `other` (an image's platform) is what `self` (the user's choice) asks for: the
    /// variant is compared only when the user named one.
    pub fn accepts(&self, other: &Platform) -> bool {
        self.os == other.os
            && self.arch == other.arch
            && (self.variant.is_none() || self.variant == other.variant)
    }

    pub(crate) fn from_oci(platform: &oci_spec::image::Platform) -> Platform {
        Platform {
            os: platform.os().to_string(),
            arch: platform.architecture().to_string(),
            variant: platform.variant().clone().filter(|v| !v.is_empty()),
        }
    }
}

impl FromStr for Platform {
    type Err = String;

    fn from_str(text: &str) -> Result<Platform, String> {
        let parts: Vec<&str> = text.split('/').collect();
        match parts[..] {
            [os, arch] if !os.is_empty() && !arch.is_empty() => {
                Ok(Platform { os: os.into(), arch: arch.into(), variant: None })
            }
            [os, arch, variant] if !os.is_empty() && !arch.is_empty() && !variant.is_empty() => {
                Ok(Platform { os: os.into(), arch: arch.into(), variant: Some(variant.into()) })
            }
            _ => Err(format!("not a platform (want os/arch[/variant]): {text:?}")),
        }
    }
}

impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.os, self.arch)?;
        if let Some(variant) = &self.variant {
            write!(f, "/{variant}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_reference_forms() {
        assert_eq!(
            ImageRef::parse("oci:/tmp/img:v1").ok(),
            Some(ImageRef::OciDir { dir: "/tmp/img".into(), tag: Some("v1".into()) })
        );
        assert_eq!(
            ImageRef::parse("oci:img").ok(),
            Some(ImageRef::OciDir { dir: "img".into(), tag: None })
        );
        assert_eq!(
            ImageRef::parse("docker-archive:a.tar").ok(),
            Some(ImageRef::DockerArchive { path: "a.tar".into() })
        );
        let Ok(ImageRef::Registry(r)) = ImageRef::parse("127.0.0.1:5000/app/web:1.0") else {
            panic!("a registry reference")
        };
        assert_eq!(
            (r.registry(), r.repository(), r.tag()),
            ("127.0.0.1:5000", "app/web", Some("1.0"))
        );
        let Ok(ImageRef::Registry(r)) = ImageRef::parse("alpine") else { panic!("docker hub") };
        assert_eq!(
            (r.registry(), r.repository(), r.tag()),
            ("docker.io", "library/alpine", Some("latest"))
        );
        assert!(ImageRef::parse("Not A Ref").is_err());
        assert!(ImageRef::parse("oci:").is_err());
        assert_eq!(ImageRef::parse("docker-archive:-").ok(), Some(ImageRef::DockerArchiveStdin));
        let daemon = ImageRef::parse("docker-daemon:app:1.0").ok();
        assert_eq!(daemon, Some(ImageRef::DockerDaemon { name: "app:1.0".into() }));
        assert_eq!(daemon.map(|r| r.to_string()).as_deref(), Some("docker-daemon:app:1.0"));
        assert!(ImageRef::parse("docker-daemon:").is_err());
        assert!(ImageRef::parse("docker-daemon:a b").is_err());
    }

    #[test]
    fn platforms() {
        let p: Platform = "linux/arm64/v8".parse().expect("valid");
        assert_eq!(p.to_string(), "linux/arm64/v8");
        let want: Platform = "linux/arm64".parse().expect("valid");
        assert!(want.accepts(&p));
        assert!(!p.accepts(&"linux/arm64".parse().expect("valid")));
        assert!("linux".parse::<Platform>().is_err());
        assert!("linux//".parse::<Platform>().is_err());
    }
}

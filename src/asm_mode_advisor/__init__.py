"""asm-advisor: per-namespace Sidecar / Ambient advice for ASM (Istio) meshes."""

__version__ = "0.1.0"

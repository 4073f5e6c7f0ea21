//! The Yew binding (feature `yew`).

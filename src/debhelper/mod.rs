//! The debhelper side (Dh_Lib subset).

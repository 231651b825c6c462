//! Graph file (placeholder until implemented below).

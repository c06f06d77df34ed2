"""Engine-independent pieces that conu's backends share (Docker's and outside ones).

Each module holds logic that does not depend on how an engine is reached: a backend calls
it, or mixes it in, and supplies the engine-specific primitive it is built on.
"""

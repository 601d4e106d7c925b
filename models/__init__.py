"""models: physics of silicon-photonic PAM4 links that produces :class:`optics.Waveform` objects."""

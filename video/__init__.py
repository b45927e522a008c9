"""Video models, data and training for lgvit backbones."""

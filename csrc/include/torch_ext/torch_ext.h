// Umbrella header of torch_ext: the functional API and the LibTorch module.
#pragma once

#include <torch_ext/nn/thresholded_relu.h>
#include <torch_ext/thresholded_relu.h>

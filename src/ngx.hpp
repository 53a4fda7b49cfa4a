/*
 * The one place nginx's C headers enter C++: every nginx-facing file of
 * the module includes this header first.
 */

#pragma once

extern "C" {
#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
}

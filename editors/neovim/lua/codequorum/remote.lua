-- A running server to connect to (`codequorum serve --tcp HOST:PORT`) instead of starting one,
-- and the token it asks for, from an environment variable or a file (never from the config).
local M = {}

--- The host and port of a "tcp://HOST:PORT" address; nil and a message when it is not one.
function M.parse(address)
  local host, port = address:match("^tcp://%[([^%]]+)%]:(%d+)/?$")
  if not host then
    host, port = address:match("^tcp://([^:/]+):(%d+)/?$")
  end
  if host and tonumber(port) > 0 and tonumber(port) < 65536 then
    return { host = host, port = tonumber(port) }
  end
  if address:match("^wss?://") then
    return nil, ("%s: Neovim connects over TCP; start the server with `codequorum serve --tcp HOST:PORT`"):format(address)
  end
  return nil, ("%s is not an address: use tcp://HOST:PORT"):format(address)
end

function M.neovim_version()
  local version = vim.version()
  return ("%d.%d.%d"):format(version.major, version.minor, version.patch)
end

--- Whether this Neovim can connect to a server over TCP (vim.lsp.rpc.connect, 0.8+).
function M.supported()
  return vim.lsp.rpc.connect ~= nil
end

local function trim(text)
  return (text:gsub("^%s+", ""):gsub("%s+$", ""))
end

--- The token: $`token_env` if set, else the contents of `token_file`; nil when neither gives
--- one (a server on loopback asks for none). A file that cannot be read is an error.
function M.token(config)
  local from_env = config.token_env and vim.env[config.token_env]
  if from_env and trim(from_env) ~= "" then
    return trim(from_env)
  end
  if not config.token_file then
    return nil
  end
  local path = vim.fn.expand(config.token_file)
  local ok, lines = pcall(vim.fn.readfile, path)
  if not ok then
    return nil, ("cannot read the token file %s (token_file)"):format(path)
  end
  local token = trim(table.concat(lines, "\n"))
  if token == "" then
    return nil, ("the token file %s (token_file) is empty"):format(path)
  end
  return token
end

return M

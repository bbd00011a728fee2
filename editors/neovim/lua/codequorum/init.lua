-- codequorum for Neovim: inline suggestions from an ensemble of code models, served by
-- `codequorum serve` over Neovim's built-in LSP client.
local client = require("codequorum.client")
local state = require("codequorum.state")

local M = {}

local GENERATE = "codequorum.generate"

local defaults = {
  enabled = true, -- false: set up, but start nothing until :Codequorum enable
  cmd = { "codequorum", "serve" },
  -- A running server instead of `cmd`: "tcp://HOST:PORT" (`codequorum serve --tcp`, Neovim
  -- 0.8+), or "tls://HOST:PORT", "ws://HOST:PORT/", "wss://HOST/PATH" (`--tls-cert`, `--ws`),
  -- reached through `codequorum connect` (connect_cmd). Its token comes from $token_env, or
  -- else from the file token_file.
  address = nil,
  token_env = "CODEQUORUM_TOKEN",
  token_file = nil,
  remote_ca_file = nil, -- tls://, wss://: the CA that signed the server's certificate (else the system's)
  connect_cmd = nil, -- nil: `cmd` up to "serve", then "connect" ({ "codequorum", "connect" })
  -- The server's settings, the TOML schema as a table (docs/configuration.md); sent as
  -- initializationOptions and laid over the server's configuration file.
  settings = {},
  filetypes = {
    "python", "javascript", "javascriptreact", "typescript", "typescriptreact",
    "go", "rust", "java", "c", "cpp",
  },
  -- Use vim.lsp.inline_completion where Neovim has it (0.12+); otherwise, or when false, the
  -- plugin shows suggestions as virtual text and reports shown/dismissed feedback itself.
  native = true,
  auto_trigger = true, -- suggest on entering insert mode and after typing (virtual text)
  debounce_ms = 100, -- pause in typing before a suggestion is requested (virtual text)
  keymaps = { -- insert mode; false leaves a key unmapped
    accept = "<Tab>", -- inserts the suggestion; with none shown, what the key did before (nvim-cmp, a <Tab>)
    next = "<M-]>",
    prev = "<M-[>",
    dismiss = "<C-]>", -- virtual text only
    suggest = "<M-\\>", -- virtual text only
  },
}

local config = vim.deepcopy(defaults)

local function inline()
  if config.native and vim.lsp.inline_completion then
    return require("codequorum.native")
  end
  return require("codequorum.suggestion")
end

local function feed(keys, mode)
  vim.api.nvim_feedkeys(vim.api.nvim_replace_termcodes(keys, true, false, true), mode or "n", false)
end

-- Run the mapping `lhs` had before the plugin's (nvim-cmp's <Tab>, a user's), or the key itself.
local function fall_through(previous, lhs)
  if not previous or vim.tbl_isempty(previous) then
    return feed(lhs)
  end
  local mode = previous.noremap == 1 and "n" or "m"
  if previous.callback then
    local keys = previous.callback()
    if previous.expr == 1 and type(keys) == "string" then
      feed(keys, mode)
    end
    return
  end
  local rhs = previous.expr == 1 and vim.api.nvim_eval(previous.rhs) or previous.rhs or ""
  feed(rhs, mode)
end

-- The insert-mode mapping of `lhs` in force for `bufnr` (buffer-local first), with its Lua
-- callback as a function (maparg() gives only a reference number on Neovim 0.7).
local function mapping_of(bufnr, lhs)
  local key = vim.api.nvim_replace_termcodes(lhs, true, true, true)
  for _, maps in ipairs({ vim.api.nvim_buf_get_keymap(bufnr, "i"), vim.api.nvim_get_keymap("i") }) do
    for _, map in ipairs(maps) do
      if vim.api.nvim_replace_termcodes(map.lhs, true, true, true) == key then
        return map
      end
    end
  end
  return nil
end

local mapped = {} -- bufnr -> true once its keys are mapped

local function map_keys(bufnr, suggestions)
  if mapped[bufnr] then
    return
  end
  mapped[bufnr] = true
  for action, lhs in pairs(config.keymaps) do
    if lhs and suggestions[action] then
      local previous = mapping_of(bufnr, lhs)
      vim.keymap.set("i", lhs, function()
        if suggestions[action](bufnr) == false then
          fall_through(previous, lhs)
        end
      end, { buffer = bufnr, desc = "codequorum: " .. action })
    end
  end
end

--- Attach a buffer to the server (done for `filetypes` by `setup`).
function M.attach(bufnr)
  if not config.enabled then
    return
  end
  map_keys(bufnr, inline())
  client.attach(bufnr, config) -- the suggestions attach once the server has (on_buffer)
end

-- Every buffer the client attaches to, first or after a reconnection, gets the suggestions.
client.on_buffer = function(bufnr, lsp_client)
  inline().attach(bufnr, config, lsp_client)
end

--- Whether a suggestion is shown in `bufnr` (default: the current buffer); for a <Tab>
--- mapping of your own: `if require("codequorum").visible() then require("codequorum").accept() ...`.
function M.visible(bufnr)
  local suggestions = inline()
  bufnr = bufnr or vim.api.nvim_get_current_buf()
  return suggestions.visible ~= nil and suggestions.visible(bufnr)
end

--- Insert the suggestion shown; false when there is none.
function M.accept(bufnr)
  return inline().accept(bufnr or vim.api.nvim_get_current_buf()) ~= false
end

local function attachable_buffers()
  return vim.tbl_filter(function(bufnr)
    return vim.api.nvim_buf_is_loaded(bufnr) and vim.tbl_contains(config.filetypes, vim.bo[bufnr].filetype)
  end, vim.api.nvim_list_bufs())
end

--- Start (or connect to) the server and attach the buffers of `filetypes`.
function M.enable()
  config.enabled = true
  client.stop() -- a fresh start, after an error too
  state.set({ kind = "starting", where = "" })
  local buffers = attachable_buffers()
  for _, bufnr in ipairs(buffers) do
    M.attach(bufnr)
  end
  if #buffers == 0 then
    state.set({ kind = "starting", where = "with the first buffer of `filetypes`" })
  end
end

--- Stop suggesting: the server stops (or the connection closes) until `enable`.
function M.disable()
  config.enabled = false
  local suggestions = inline()
  for _, bufnr in ipairs(attachable_buffers()) do
    if suggestions.dismiss then
      suggestions.dismiss(bufnr)
    end
  end
  client.stop()
  state.set({ kind = "disabled" })
end

--- The plugin's state in one line, for a statusline (`User CodequorumStatus` fires on change).
function M.statusline()
  return state.statusline()
end

--- `{ kind = "disabled" | "starting" | "loading" | "ready" | "disconnected" | "error", ... }`
function M.status()
  return state.get()
end

local SUBCOMMANDS = {
  enable = M.enable,
  disable = M.disable,
  status = function()
    print(state.describe())
  end,
}

--- Generate code from the comment on `line1`, or from the lines `line1`..`line2` (1-based).
function M.generate(bufnr, line1, line2)
  local lsp_client = client.get()
  if not lsp_client then
    vim.notify("codequorum: the server is not running in this Neovim", vim.log.levels.ERROR)
    return
  end
  local place = { uri = vim.uri_from_bufnr(bufnr) }
  if line2 then
    -- A character past the end of a line means its end, so the byte length will do.
    local last = vim.api.nvim_buf_get_lines(bufnr, line2 - 1, line2, true)[1]
    place.range = {
      start = { line = line1 - 1, character = 0 },
      ["end"] = { line = line2 - 1, character = #last },
    }
  else
    place.line = line1 - 1
  end
  client.execute(lsp_client, { command = GENERATE, arguments = { place } }, bufnr, function(err, result)
    if err then
      vim.notify("codequorum: " .. err.message, vim.log.levels.ERROR)
    elseif not result.applied then
      local why = result.reason or "the editor did not apply the edit"
      vim.notify("codequorum: nothing generated (" .. why .. ")", vim.log.levels.WARN)
    end
  end)
end

--- Replace the server's settings (laid over its configuration file, as at startup).
function M.configure(settings)
  config.settings = settings
  local lsp_client = client.get()
  if lsp_client then
    client.configure(lsp_client, settings)
  end
end

function M.setup(options)
  config = vim.tbl_deep_extend("force", vim.deepcopy(defaults), options or {})
  local group = vim.api.nvim_create_augroup("codequorum", { clear = true })
  vim.api.nvim_create_autocmd("FileType", {
    group = group,
    pattern = config.filetypes,
    callback = function(args)
      M.attach(args.buf)
    end,
  })
  vim.api.nvim_create_user_command("Codequorum", function(command)
    local run = SUBCOMMANDS[command.args]
    if not run then
      vim.notify("codequorum: :Codequorum enable, disable or status", vim.log.levels.ERROR)
      return
    end
    run()
  end, {
    nargs = 1,
    complete = function()
      return { "enable", "disable", "status" }
    end,
    desc = "codequorum: enable or disable suggestions, or show the server's state",
  })
  vim.api.nvim_create_user_command("CodequorumGenerate", function(command)
    local bufnr = vim.api.nvim_get_current_buf()
    M.generate(bufnr, command.line1, command.range > 0 and command.line2 or nil)
  end, { range = true, desc = "codequorum: generate code from a comment or the selected lines" })
  if not config.enabled then
    state.set({ kind = "disabled" })
    return
  end
  state.set({ kind = "starting", where = "with the first buffer of `filetypes`" })
  for _, bufnr in ipairs(attachable_buffers()) do
    M.attach(bufnr)
  end
end

--- The options in force (for :checkhealth).
function M.config()
  return config
end

return M

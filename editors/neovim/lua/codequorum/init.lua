-- codequorum for Neovim: inline suggestions from an ensemble of code models, served by
-- `codequorum serve` over Neovim's built-in LSP client.
local client = require("codequorum.client")

local M = {}

local GENERATE = "codequorum.generate"

local defaults = {
  cmd = { "codequorum", "serve" },
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
    accept = "<Tab>", -- inserts the suggestion, or types a <Tab> when none is shown
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

local function feed(keys)
  vim.api.nvim_feedkeys(vim.api.nvim_replace_termcodes(keys, true, false, true), "n", false)
end

local function map_keys(bufnr, suggestions)
  for action, lhs in pairs(config.keymaps) do
    if lhs and suggestions[action] then
      vim.keymap.set("i", lhs, function()
        if suggestions[action](bufnr) == false then
          feed(lhs)
        end
      end, { buffer = bufnr, desc = "codequorum: " .. action })
    end
  end
end

--- Attach a buffer to the server (done for `filetypes` by `setup`).
function M.attach(bufnr)
  local lsp_client = client.attach(bufnr, config)
  if lsp_client then
    local suggestions = inline()
    suggestions.attach(bufnr, config, lsp_client)
    map_keys(bufnr, suggestions)
  end
end

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
  vim.api.nvim_create_user_command("CodequorumGenerate", function(command)
    local bufnr = vim.api.nvim_get_current_buf()
    M.generate(bufnr, command.line1, command.range > 0 and command.line2 or nil)
  end, { range = true, desc = "codequorum: generate code from a comment or the selected lines" })
  for _, bufnr in ipairs(vim.api.nvim_list_bufs()) do
    if vim.api.nvim_buf_is_loaded(bufnr) and vim.tbl_contains(config.filetypes, vim.bo[bufnr].filetype) then
      M.attach(bufnr)
    end
  end
end

return M
